"""One home, found from anywhere: the setting, else the project's root upwards from the
working directory, else the per-user data folder."""

from pathlib import Path

from casecast.data.settings import HOME_FOLDER, PROJECT_ROOT, DataSettings, find_home


def test_the_setting_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("CASECAST_HOME", str(tmp_path / "elsewhere"))
    assert DataSettings().home == tmp_path / "elsewhere"


def test_an_existing_home_is_found_from_any_subfolder(tmp_path, monkeypatch):
    (tmp_path / "project" / HOME_FOLDER).mkdir(parents=True)
    deep = tmp_path / "project" / "notebooks" / "drafts"
    deep.mkdir(parents=True)
    assert find_home(deep) == tmp_path / "project" / HOME_FOLDER
    monkeypatch.delenv("CASECAST_HOME", raising=False)
    monkeypatch.chdir(deep)
    assert DataSettings().home == tmp_path / "project" / HOME_FOLDER


def test_the_checkout_is_a_project_root_before_its_home_exists():
    assert find_home(PROJECT_ROOT / "notebooks") == PROJECT_ROOT / HOME_FOLDER
    assert find_home(PROJECT_ROOT / "serving" / "static") == PROJECT_ROOT / HOME_FOLDER


def test_outside_any_project_the_per_user_data_folder(tmp_path, monkeypatch):
    somewhere = tmp_path / "somewhere"
    somewhere.mkdir()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "another-project"\n')
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data-home"))
    assert find_home(somewhere) == tmp_path / "data-home" / "casecast"
    monkeypatch.delenv("XDG_DATA_HOME")
    assert find_home(somewhere) == Path.home() / ".local" / "share" / "casecast"
