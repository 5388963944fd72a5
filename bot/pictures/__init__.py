"""Pictures: a launch chart and launch maps, drawn offline in a worker process.

    renderer = Renderer()                    # one per bot; `await renderer.start()` warms it
    spec = chart_spec(events, title=..., period="month", count="events")
    outcome = await renderer.render_chart(spec, empty=sentence, key=(guilds, filters, changes))
    # Picture(png, width, height, description) | NothingToDraw(sentence) | None (failed)

    spec = event_map_spec(event, title=..., distance_km=event.distance_km)
    task = renderer.prerender(("event", event.id, event.revision), spec, empty=sentence)
    picture = await within(task, 0.5)        # None when not ready: send without it

Modules: `chart.py` and `map.py` turn events into specs (caller side, no matplotlib);
`chart_drawing.py`, `map_drawing.py`, `figure.py` and `geography.py` draw them (worker
side); `labels.py` holds the words (templates/pictures/); `render.py` the pool and caches.
"""

from bot.pictures.chart import chart_spec
from bot.pictures.labels import chart_labels, describe, map_labels
from bot.pictures.map import event_map_spec, in_region, period_map_spec
from bot.pictures.render import Renderer, within
from bot.pictures.specs import (
    ChartLabels,
    ChartSpec,
    EventMapSpec,
    Frame,
    MapLabels,
    NothingToDraw,
    Outcome,
    PeriodMapSpec,
    Picture,
    Site,
)

__all__ = [
    "ChartLabels",
    "ChartSpec",
    "EventMapSpec",
    "Frame",
    "MapLabels",
    "NothingToDraw",
    "Outcome",
    "PeriodMapSpec",
    "Picture",
    "Renderer",
    "Site",
    "chart_labels",
    "chart_spec",
    "describe",
    "event_map_spec",
    "in_region",
    "map_labels",
    "period_map_spec",
    "within",
]
