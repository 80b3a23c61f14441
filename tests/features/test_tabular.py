import numpy as np
import pandas as pd

from casecast.features.tabular import DelimitedOneHotEncoder


def test_multi_valued_cells_set_several_columns():
    frame = pd.DataFrame({"respondent": ["RUS", "RUS;UKR", "UKR", "TUR", None]})
    encoder = DelimitedOneHotEncoder(min_frequency=2).fit(frame)
    assert list(encoder.get_feature_names_out()) == ["respondent=RUS", "respondent=UKR"]
    dense = encoder.transform(frame).toarray()
    assert dense.tolist() == [[1, 0], [1, 1], [0, 1], [0, 0], [0, 0]]


def test_unseen_values_read_as_no_information():
    encoder = DelimitedOneHotEncoder(min_frequency=1).fit(pd.DataFrame({"r": ["A", "B"]}))
    assert np.all(encoder.transform(pd.DataFrame({"r": ["ZZZ"]})).toarray() == 0)
