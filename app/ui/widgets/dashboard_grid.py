"""The dashboard's grid as one compact HTML table: every participant on one line, every exercise
in a narrow column, full names (wrapped, never cut), flags first. Pure functions, no streamlit:
the page caches the string per room version and shows it with st.html, which sanitises it.
Names are what people typed: every text goes through html.escape."""

from __future__ import annotations

import datetime
from html import escape
from zoneinfo import ZoneInfo

from app.rooms.dashboard import AttemptLine, Cell, Dashboard, Row
from app.rooms.rooms import Room

# Past this many exercises the headers are numbers, with the titles in a legend under the grid.
FULL_TITLES_UP_TO = 6

STYLE = """<style>
.pg-grid{border-collapse:collapse;font-size:0.8rem;line-height:1.15;width:auto;max-width:100%}
.pg-grid th,.pg-grid td{border:1px solid rgba(128,128,128,.35);padding:1px 5px;text-align:center;
 white-space:nowrap}
.pg-grid th{font-weight:600;vertical-align:bottom;background:rgba(128,128,128,.12)}
.pg-grid th.ex{white-space:normal;max-width:8.5em;font-weight:500}
.pg-grid td.name{text-align:left;white-space:normal;overflow-wrap:anywhere;max-width:22em;
 min-width:7em}
.pg-grid td.passed{background:rgba(33,195,84,.22)}
.pg-grid td.failed{background:rgba(255,75,75,.20)}
.pg-grid td.muted,.pg-grid .muted{opacity:.6}
.pg-grid tfoot td{font-weight:600;background:rgba(128,128,128,.08)}
.pg-flag{display:inline-block;border-radius:3px;padding:0 4px;font-size:.72rem;font-weight:700}
.pg-stuck{background:#d33;color:#fff}
.pg-idle{background:#888;color:#fff}
</style>"""


def _zone(timezone: str | None) -> ZoneInfo | None:
    try:
        return ZoneInfo(timezone) if timezone else None
    except (ValueError, KeyError, OSError):  # a browser's odd zone name: the server's time
        return None


def clock(ts: float, timezone: str | None = None) -> str:
    return datetime.datetime.fromtimestamp(ts, _zone(timezone)).strftime("%H:%M")


def ago(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 60:
        return "now"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def room_status(room: Room, now: float, timezone: str | None = None) -> str:
    """One line for everyone: open (and until when), ended, or closed; read-only when over."""
    if room.closed_at is not None:
        return f"Closed at {clock(room.closed_at, timezone)}: read-only, results kept"
    if room.ends_at is not None and now >= room.ends_at:
        return f"Ended at {clock(room.ends_at, timezone)}: read-only, results kept"
    if room.ends_at is not None:
        return (f"Open · ends at {clock(room.ends_at, timezone)} "
                f"(in {ago(room.ends_at - now).replace('now', 'under a minute')})")
    return "Open · no end time"


def cell_text(cell: Cell | None) -> tuple[str, str, str]:
    """(text, css class, tooltip) of one participant x exercise cell."""
    if cell is None or (not cell.attempts and not cell.solution_seen):
        return "·", "muted", "not started"
    seen = " S" if cell.solution_seen else ""
    seen_tip = ", saw the solution" if cell.solution_seen else ""
    if cell.passed:
        count = str(cell.attempts) if cell.attempts > 1 else ""
        return f"✓{count}{seen}", "passed", f"passed after {cell.attempts} attempt(s){seen_tip}"
    if cell.attempts:
        return f"✗{cell.attempts}{seen}", "failed", f"{cell.attempts} failed attempt(s){seen_tip}"
    return f"·{seen}", "muted", f"not attempted{seen_tip}"


def _flags(row: Row) -> str:
    out = []
    if row.stuck:
        out.append('<span class="pg-flag pg-stuck">STUCK</span>')
    if row.idle:
        out.append('<span class="pg-flag pg-idle">IDLE</span>')
    return " ".join(out)


def grid_html(view: Dashboard, titles: dict[str, str], order: str, now: float,
              timezone: str | None = None) -> str:
    """The whole grid, rows in the chosen order; a legend line when headers are numbers."""
    numbered = len(view.exercises) > FULL_TITLES_UP_TO
    head = ["<th>#</th>", "<th>Participant</th>", "<th>Flag</th>", "<th>Done</th>",
            "<th>Active</th>", "<th>Joined</th>"]
    for n, exercise_id in enumerate(view.exercises, start=1):
        title = escape(titles[exercise_id])
        label = str(n) if numbered else title
        head.append(f'<th class="ex" title="{title}">{label}</th>')
    body = []
    total = len(view.exercises)
    for n, row in enumerate(view.sorted_rows(order), start=1):
        cells = [f"<td class='muted'>{n}</td>", f'<td class="name">{escape(row.name)}</td>',
                 f"<td>{_flags(row)}</td>", f"<td>{row.passed}/{total}</td>",
                 f"<td>{ago(now - row.last_seen_at)}</td>",
                 f"<td>{clock(row.joined_at, timezone)}</td>"]
        for exercise_id in view.exercises:
            text, css, tip = cell_text(row.cells.get(exercise_id))
            cells.append(f'<td class="{css}" title="{escape(tip)}">{escape(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    people = len(view.rows)
    foot = ['<td colspan="6" style="text-align:right">passed</td>']
    foot += [f"<td>{view.passed_count(e)}/{people}</td>" for e in view.exercises]
    table = (f'{STYLE}<table class="pg-grid" data-testid="room-grid"><thead><tr>{"".join(head)}'
             f'</tr></thead><tbody>{"".join(body)}</tbody><tfoot><tr>{"".join(foot)}</tr>'
             "</tfoot></table>")
    if numbered:
        legend = " · ".join(f"{n} {escape(titles[e])}"
                            for n, e in enumerate(view.exercises, start=1))
        table += f'<p style="font-size:.75rem;opacity:.8;margin:.3rem 0 0">{legend}</p>'
    return table


def error_lines(view: Dashboard, titles: dict[str, str]) -> list[tuple[str, str]]:
    """(exercise title, 'label ×count, ...') for exercises with failures."""
    return [(titles[e], ", ".join(f"{label} ×{count}" for label, count in view.errors[e]))
            for e in view.exercises if view.errors.get(e)]


def attempts_html(tried: list[AttemptLine], timezone: str | None = None) -> str:
    """One participant's attempts at one exercise, newest first: time, verdict, what failed."""
    lines = []
    for a in tried:
        verdict = ('<td class="passed">passed</td>' if a.passed
                   else '<td class="failed">failed</td>')
        what = "" if a.passed else (a.error_type or a.failed_case or a.status)
        message = "" if a.passed else a.message[:300]
        lines.append(f"<tr><td>{clock(a.submitted_at, timezone)}</td>{verdict}"
                     f'<td class="name">{escape(what)}</td>'
                     f'<td class="name">{escape(message)}</td></tr>')
    return (f'{STYLE}<table class="pg-grid" data-testid="room-attempts"><thead><tr><th>At</th>'
            "<th>Verdict</th><th>Case or error</th><th>Message</th></tr></thead>"
            f"<tbody>{''.join(lines)}</tbody></table>")
