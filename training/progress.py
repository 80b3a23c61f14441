"""Progress bars for long stages (rich), on stderr so `--json` output stays clean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console(stderr=True, soft_wrap=True)  # messages are copied into shells: never wrap


@contextmanager
def progress_bar(
    description: str, total: int | None = None
) -> Iterator[tuple[Callable[[int], None], Callable[..., None]]]:
    """Yield ``(advance, set_total)`` callbacks driving one bar; ``set_total(n, "next
    step")`` starts the bar again from zero for a stage's next step."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
        # In a notebook the console's stderr is the kernel's stream: redirecting it into the
        # console would loop (other libraries' output, such as a model's loading bar).
        redirect_stdout=not console.is_jupyter,
        redirect_stderr=not console.is_jupyter,
    ) as progress:
        task = progress.add_task(description, total=total)

        def set_total(total: int | None, step: str | None = None) -> None:
            if step is None:
                progress.update(task, total=total)
            else:
                progress.update(task, total=total, completed=0, description=step)

        yield lambda n: progress.advance(task, n), set_total
