"""Spec problems, reported as one line each: ``file: field: problem; fix``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SpecProblem:
    """One problem of a spec: where it is and how to fix it."""

    file: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: " if self.file else ""
        field = f"{self.field}: " if self.field else ""
        return f"{where}{field}{self.message}"


class SpecError(Exception):
    """A spec (or override, or resource request) that cannot run. Holds every problem found."""

    def __init__(self, problems: list[SpecProblem]):
        # Keep the order stable but drop exact duplicates (grid combinations repeat errors).
        unique: list[SpecProblem] = []
        for problem in problems:
            if problem not in unique:
                unique.append(problem)
        self.problems = unique
        super().__init__("\n".join(str(p) for p in unique))

    @classmethod
    def single(cls, file: str, field: str, message: str) -> "SpecError":
        return cls([SpecProblem(file, field, message)])
