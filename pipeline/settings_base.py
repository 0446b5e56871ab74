"""Building blocks of the settings models: a frozen section and a field with its unit."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import JsonDict


def setting(default: Any, description: str, unit: str | None = None, **limits: Any) -> Any:
    """A pydantic field whose unit is part of its schema, so ``formwatch config`` can show it."""
    extra: JsonDict | None = {"unit": unit} if unit else None
    return Field(default, description=description, json_schema_extra=extra, **limits)


class Section(BaseModel):
    """A group of settings: immutable, unknown keys rejected, defaults validated too, and no NaN
    or infinite number (a NaN threshold compares false with everything: no fault would ever show)."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, allow_inf_nan=False)
