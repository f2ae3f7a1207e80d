"""The dataset map: a Fides ``dataset:`` document, checked when it is loaded.

What policykeeper reads from it and what it only keeps is listed in ``docs/connectors.md``. Keys policykeeper owns
(``masking`` per field, ``identities`` per dataset) are strict; Fides' own ``fides_meta`` keys that policykeeper does
not use are kept and named in :meth:`DatasetMap.notes`, so a map written for Fides loads as it is.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .._exceptions import ConfigError
from ._identity import IdentityRule, default_rule

__all__ = ["Collection", "Dataset", "DatasetField", "DatasetMap", "load_dataset_map"]

Masking = Literal["null", "hash", "random", "delete_row"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Open(BaseModel):
    """Fides metadata: the keys policykeeper reads are typed; any other key is kept (and named in the notes)."""

    model_config = ConfigDict(extra="allow", frozen=True)

    def unknown_keys(self) -> list[str]:
        return sorted(self.model_extra or {})


class Reference(_Strict):
    dataset: str
    field: str = Field(pattern=r"^[A-Za-z_][\w]*\.[A-Za-z_][\w]*$")
    direction: Literal["from", "to"] | None = None


class FieldMeta(_Open):
    identity: str | None = Field(None, description="The field holds this identity of the person (e.g. email).")
    custom_request_field: str | None = Field(None, description="Kept: requests carry no custom fields, so it filters "
                                                               "nothing (named in the notes).")
    primary_key: bool = Field(False, description="Part of the collection's key; never masked.")
    references: tuple[Reference, ...] = ()
    data_type: str | None = Field(None, description="Kept; descriptive.")
    length: int | None = Field(None, description="Kept; descriptive.")
    return_all_elements: bool | None = Field(None, description="Kept; arrays are read and masked whole.")
    read_only: bool | None = Field(None, description="Never written: a personal read-only field stops erasure.")


class DatasetField(_Strict):
    name: str = Field(pattern=r"^[A-Za-z_][\w]*$")
    description: str | None = None
    data_categories: tuple[str, ...] | None = None
    fides_meta: FieldMeta = FieldMeta()
    fields: tuple[DatasetField, ...] = Field((), description="Nested fields of a document column: the column is "
                                                             "personal if any of them is; masked whole.")
    masking: Masking = "null"

    def own_categories(self) -> tuple[str, ...]:
        """Its categories and those of any nested field."""
        return tuple(self.data_categories or ()) + tuple(c for f in self.fields for c in f.own_categories())

    @property
    def identity(self) -> str | None:
        return self.fides_meta.identity

    @property
    def structural(self) -> bool:
        """A key or a reference: how rows are found, not what is said about the person."""
        return self.fides_meta.primary_key or bool(self.fides_meta.references)


class CollectionMeta(_Open):
    pass


class Collection(_Strict):
    name: str = Field(pattern=r"^[A-Za-z_][\w]*$")
    description: str | None = None
    data_categories: tuple[str, ...] | None = None
    fides_meta: CollectionMeta = CollectionMeta()
    fields: tuple[DatasetField, ...] = Field(min_length=1)

    @property
    def key_fields(self) -> tuple[str, ...]:
        """The map's primary key (one or several fields; none: the table's own key is used)."""
        return tuple(f.name for f in self.fields if f.fides_meta.primary_key)


class DatasetMetaOpen(_Open):
    pass


class Dataset(_Strict):
    fides_key: str
    name: str | None = None
    description: str | None = None
    organization_fides_key: str | None = None
    tags: tuple[str, ...] | None = None
    data_categories: tuple[str, ...] | None = None
    fides_meta: DatasetMetaOpen = DatasetMetaOpen()
    identities: dict[str, IdentityRule] = Field(
        default_factory=dict, description="policykeeper: how each identity is matched (email, phone or exact); an "
                                          "identity not named here gets a rule by its name.")
    collections: tuple[Collection, ...] = Field(min_length=1)

    def categories(self, c: Collection, f: DatasetField) -> tuple[str, ...]:
        """A field's data categories: its own (and its nested fields'), else its collection's, else the dataset's.
        Keys and references do not inherit: they say how rows are found."""
        own = f.own_categories()
        if f.data_categories is not None or own or f.structural:
            return own
        return tuple(c.data_categories or self.data_categories or ())

    def personal(self, c: Collection) -> tuple[DatasetField, ...]:
        """Fields holding something about the person: a ``user`` category, or an identity."""
        return tuple(f for f in c.fields if f.identity or any(x.split(".")[0] == "user" for x in self.categories(c, f)))

    def rule(self, identity: str) -> IdentityRule:
        return self.identities.get(identity) or default_rule(identity)


class DatasetMap(_Strict):
    """A Fides-compatible ``dataset:`` document (one dataset per map is walked at a time)."""

    dataset: tuple[Dataset, ...] = Field(min_length=1)

    def notes(self) -> list[str]:
        """What the map says that policykeeper keeps but does not act on."""
        out: list[str] = []
        for ds in self.dataset:
            for k in ds.fides_meta.unknown_keys():
                out.append(f"{ds.fides_key}: fides_meta.{k} is kept, not used")
            for c in ds.collections:
                for k in c.fides_meta.unknown_keys():
                    out.append(f"{ds.fides_key}.{c.name}: fides_meta.{k} is kept, not used")
                for f in c.fields:
                    for k in f.fides_meta.unknown_keys():
                        out.append(f"{ds.fides_key}.{c.name}.{f.name}: fides_meta.{k} is kept, not used")
                    if f.fides_meta.custom_request_field:
                        out.append(f"{ds.fides_key}.{c.name}.{f.name}: fides_meta.custom_request_field is kept, not "
                                   f"used (requests carry no custom fields: it filters nothing)")
        return out


def load_dataset_map(path: Path) -> DatasetMap:
    """Load and check a dataset map; errors name the file and the key path."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read a dataset map: {exc}") from None
    return check_dataset_map(data, str(path))


def check_dataset_map(data: Any, where: str = "dataset map") -> DatasetMap:
    """Validate a map given as data; references must name fields of the same dataset."""
    try:
        dmap = DatasetMap.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(x) for x in first["loc"])
        raise ConfigError(f"{where}: {loc}: {first['msg']}") from None
    for ds in dmap.dataset:
        names = {c.name: c for c in ds.collections}
        for c in ds.collections:
            for f in c.fields:
                for ref in f.fides_meta.references:
                    coll, _, fld = ref.field.partition(".")
                    if ref.dataset != ds.fides_key or coll not in names or fld not in {x.name for x in names[coll].fields}:
                        raise ConfigError(f"{where}: {c.name}.{f.name} references unknown field {ref.dataset}.{ref.field}")
    return dmap
