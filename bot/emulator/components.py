"""Message and modal components as a Discord client handles them: find one, submit a modal."""

from __future__ import annotations

from typing import Any

SELECT_TYPES = {3, 5, 6, 7, 8}
ACTION_ROW, TEXT_INPUT, LABEL = 1, 4, 18


def find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    """The component with ``custom_id`` anywhere in a message's (nested) component tree."""
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        nested = list(component.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(component.get(key), dict):
                nested.append(component[key])
        found = find_component(nested, custom_id)
        if found is not None:
            return found
    return None


def submitted(component: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """A modal component as the client submits it; text inputs carry the typed value.

    ``values`` are keyed by the input's custom_id or by its label; an input not named keeps
    the value the modal filled it with (as a person who leaves it alone submits it).
    """
    kind = component.get("type")
    if kind == ACTION_ROW:
        return {"type": kind, "components": [submitted(c, values) for c in component["components"]]}
    if kind == LABEL:
        inner = dict(component["component"])
        inner["label"] = inner.get("label") or component.get("label")
        return {"type": kind, "component": submitted(inner, values)}
    if kind == TEXT_INPUT:
        custom_id = component["custom_id"]
        shown = str(component.get("value") or "")
        value = values.get(custom_id, values.get(component.get("label") or "", shown))
        return {"type": kind, "custom_id": custom_id, "value": value}
    return {"type": kind, "id": component.get("id", 0)}
