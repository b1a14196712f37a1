"""The site build's progress bar (rich), drawn on stderr only when it is a terminal."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID


class Progress:
    """``Progress(total, label, enabled)``; call :meth:`advance` per item, :meth:`close` at the end.

    ``enabled=None`` shows the bar only when ``stream`` (stderr by default) is a terminal, so
    pipes and CI logs stay quiet. The bar is transient: :meth:`close` clears it.
    """

    def __init__(self, total: int, label: str, enabled: bool | None = None,
                 stream: TextIO | None = None) -> None:  # fmt: skip
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self.total = max(total, 0)
        self.label = label
        self.done = 0
        self._bar: RichProgress | None = None
        self._task: TaskID | None = None
        if self.enabled:
            self._bar, self._task = _start(self.stream, label, self.total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def stage(self, label: str) -> None:
        """Show a step without a count (e.g. indexing) in place of the counted one."""
        if self._bar is None:
            return
        if self._task is not None:
            self._bar.refresh()  # draw the final count before the stage replaces it
            self._bar.update(self._task, visible=False)
        self._task = self._bar.add_task(f"{label}…", total=None)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _start(stream: TextIO, label: str, total: int) -> tuple[RichProgress, TaskID]:
    # Imported here: rich costs ~0.1 s and a quiet build never needs it.
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as RichProgress
    from rich.text import Text

    class Count(MofNCompleteColumn):
        def render(self, task: Any) -> Text:  # a stage has no count to show
            return Text("") if task.total is None else super().render(task)

    # An explicit enabled=True draws even when the stream does not look like a terminal.
    console = Console(file=stream, force_terminal=True, highlight=False)
    bar = RichProgress(
        TextColumn("{task.description}"), BarColumn(), Count(), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    task = bar.add_task(label, total=total)
    bar.start()
    return bar, task
