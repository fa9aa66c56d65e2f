"""What `lineoa run` shows while it works: a bar per phase on a terminal, one plain line per phase otherwise.

It listens to the runs as a Dagster logger: a step's start opens its phase, the steps' own "N of M" lines
move the bar, and warnings a person must act on (a quarantined file) print as they come. Dagster's own log
lines show only with `--verbose`.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

import dagster as dg
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from lineoa_pipeline.commands.signals import heard
from lineoa_pipeline.history.terminal import printable
from lineoa_pipeline.settings.language import ENGLISH, N_, Language

# The phase each step belongs to, in the order a run meets them.
PHASES = {
    "archived_inputs": "archiving",
    "staged_files": "staging",
    "bulk_backups": "staging",
    "messages": "writing months",
    "chat_tags": "views",
    "media_files": "views",
    "analytics_views": "views",
    "retention_status": "retention",
    "warehouse_snapshot": "snapshot",
}
UNITS = {"archiving": "files", "staging": "files", "writing months": "months", "views": "steps"}
# What a person reads: each phase's name, and its line when it ends (literal calls, for pybabel extract).
PHASE_NAMES = {
    "archiving": N_("archiving"),
    "staging": N_("staging"),
    "writing months": N_("writing months"),
    "views": N_("views"),
    "retention": N_("retention"),
    "snapshot": N_("snapshot"),
}
UNIT_NAMES = {"files": N_("files"), "months": N_("months"), "steps": N_("steps")}
_ENDED = {
    "files": lambda lang, n, **v: lang.ngettext(
        "{phase}: {count} file in {seconds} s", "{phase}: {count} files in {seconds} s", n, **v
    ),
    "months": lambda lang, n, **v: lang.ngettext(
        "{phase}: {count} month in {seconds} s", "{phase}: {count} months in {seconds} s", n, **v
    ),
    "steps": lambda lang, n, **v: lang.ngettext(
        "{phase}: {count} step in {seconds} s", "{phase}: {count} steps in {seconds} s", n, **v
    ),
}
_COUNT = re.compile(r"^(?:archived|staged) ([\d,]+) of ([\d,]+) ")
_WARN = ("quarantined ", "skipped ")


@dataclass
class _Phase:
    name: str
    started: float = field(default_factory=time.monotonic)
    done: int = 0
    total: int | None = None
    task: TaskID | None = None


class RunProgress:
    """Phases of one command's runs, drawn on `out` (bars when it is a terminal)."""

    def __init__(self, out: TextIO | None = None, quiet: bool = False, lang: Language = ENGLISH) -> None:
        """`quiet`: plain lines even on a terminal (Dagster's own log lines are shown instead of bars); what
        it says is in `lang`."""
        self.out = out or sys.stdout
        self.quiet = quiet
        self.lang = lang
        self.months: int | None = None
        self.bars: Progress | None = None
        self.phase: _Phase | None = None

    def start(self) -> None:
        if self.out.isatty() and not self.quiet:
            self.bars = Progress(
                TextColumn("{task.description:<15}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[unit]}"),
                TimeRemainingColumn(elapsed_when_finished=True),
                console=Console(file=self.out),
                transient=False,
            )
            self.bars.start()

    def say(self, text: str) -> None:
        """A line for the person at the terminal, above the bars (names from the data: controls escaped)."""
        text = printable(text)
        if self.bars:
            self.bars.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.out, flush=True)

    def step_started(self, step_key: str) -> None:
        name = PHASES.get(step_key)
        if name is None or (self.phase and self.phase.name == name):  # an asset check: part of its asset's phase
            return
        self.end_phase()
        steps = sum(phase == name for phase in PHASES.values())
        self.phase = _Phase(name, total=self.months if name == "writing months" else steps if name == "views" else None)
        if self.bars:
            unit = self.lang.gettext(UNIT_NAMES[UNITS[name]]) if name in UNITS else ""
            self.phase.task = self.bars.add_task(
                self.lang.gettext(PHASE_NAMES[name]), total=self.phase.total, unit=unit
            )

    def step_ended(self, step_key: str) -> None:
        if step_key not in PHASES:  # an asset check
            return
        if self.phase and self.phase.name == "writing months":  # one step writes the whole range
            self.advance(self.phase.total or 1)
        elif self.phase and self.phase.name == "views":
            self.advance(self.phase.done + 1)

    def advance(self, done: int, total: int | None = None) -> None:
        if not self.phase:
            return
        self.phase.done, self.phase.total = done, total or self.phase.total
        if self.bars and self.phase.task is not None:
            self.bars.update(self.phase.task, completed=done, total=self.phase.total)

    def end_phase(self) -> None:
        phase, self.phase = self.phase, None
        if not phase:
            return
        seconds = time.monotonic() - phase.started
        if self.bars and phase.task is not None:
            self.bars.update(phase.task, completed=phase.total or phase.done, total=phase.total or phase.done or 1)
        else:
            words = {"phase": self.lang.gettext(PHASE_NAMES[phase.name]), "seconds": f"{seconds:.1f}"}
            if phase.name in UNITS and phase.done:
                self.say(_ENDED[UNITS[phase.name]](self.lang, phase.done, **words))
            else:
                self.say(self.lang.gettext("{phase}: in {seconds} s", **words))

    def close(self) -> None:
        self.end_phase()
        if self.bars:
            self.bars.stop()
            self.bars = None

    def handle(self, record: logging.LogRecord) -> None:
        """One Dagster log record of a run: a step started or ended, a count, or a warning."""
        meta = getattr(record, "dagster_meta", None)  # what Dagster's log manager attaches to each record
        if not meta:
            return
        event = meta.get("dagster_event")
        if event is not None:
            if event.event_type == dg.DagsterEventType.STEP_START and event.step_key:
                self.step_started(event.step_key)
            elif event.event_type == dg.DagsterEventType.STEP_SUCCESS and event.step_key:
                self.step_ended(event.step_key)
            elif event.event_type == dg.DagsterEventType.STEP_FAILURE and not heard():
                # after a signal the command says so, in one line
                self.say(self.lang.gettext("failed: {message}", message=meta["orig_message"]))
            return
        text = meta["orig_message"]
        if counted := _COUNT.match(text):
            self.advance(int(counted[1].replace(",", "")), int(counted[2].replace(",", "")))
        elif (record.levelno >= logging.WARNING or text.startswith(_WARN)) and not heard():
            self.say(self.lang.gettext("warning: {message}", message=text))


def progress_logger(progress: RunProgress) -> dg.LoggerDefinition:
    """A Dagster logger that hands every record of a run to `progress`."""

    class _Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            progress.handle(record)

    def make(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("lineoa.progress", logging.DEBUG)
        logger.addHandler(_Handler())
        return logger

    return dg.LoggerDefinition(make, description="Phases and warnings for the terminal of `lineoa run`.")
