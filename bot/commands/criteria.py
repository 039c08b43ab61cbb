"""``criteria``: show the profile's criteria, edit them (admins), suggest an edit from
people's reactions and accept it. Every edit is a new version, applied atomically by the store."""

from __future__ import annotations

from bot.commands.base import CoreBase
from bot.commands.request import Reply, Request
from scoring.domain import criteria as crit
from scoring.domain.errors import InputError, NotFound
from scoring.domain.injection import strip_invisible
from scoring.domain.models import Criterion
from scoring.learning.suggest import Suggestion, suggest
from scoring.storage.store import CriteriaEdit


class CriteriaCommands(CoreBase):
    async def criteria(
        self,
        req: Request,
        action: str,
        text: str | None = None,
        id: str | None = None,  # noqa: A002 - the option's name, --id
        against: bool = False,
        version: int | None = None,
    ) -> Reply:
        if action == "show":
            current = await self.store.current_criteria(req.profile)
            return Reply(
                text=f"Criteria version {current.version} ({current.hash}):\n"
                + _criteria_lines(current.items),
                data=current.model_dump(mode="json"),
            )
        if action == "history":
            history = await self.store.criteria_history(req.profile)
            lines = [
                f"v{v.version} {v.created_at:%Y-%m-%d %H:%M} {v.action}"
                f"{': ' + v.detail if v.detail else ''}{' by ' + v.author if v.author else ''}"
                for v in history
            ]
            return Reply(text="\n".join(lines), data=[v.model_dump(mode="json") for v in history])
        if action == "suggest":
            return await self._suggest(req.profile)
        if action == "accept":
            return await self._accept(req.profile, req.user)
        edit = await self._criteria_edit(req.profile, action, text, id, against, version)
        new = await self.store.update_criteria(req.profile, edit, req.user)
        return Reply(
            text=f"Criteria version {new.version}: {new.detail}\n" + _criteria_lines(new.items),
            data=new.model_dump(mode="json"),
            visibility="channel",
        )

    async def _suggest(self, profile: str) -> Reply:
        found, how = await suggest(
            self.store, profile, self.deps.scorer(), self.deps.learning.suggest_min_reactions
        )
        if found is None:
            return Reply(text=f"No edit to suggest ({how}): the criteria already say it.")
        await self.store.save_suggestion(profile, found.model_dump_json())
        current = await self.store.current_criteria(profile)
        text = (
            f"Suggested edit to criteria v{current.version} ({how}): {found.reason}\n"
            f"```\n{found.diff(current.items)}\n```\n"
            "An admin applies it with `criteria accept`; nothing changes until then."
        )
        return Reply(text=text, data=found.model_dump(mode="json"), visibility="channel")

    async def _accept(self, profile: str, user: str | None) -> Reply:
        raw = await self.store.suggestion(profile)
        if raw is None:
            raise NotFound("no pending suggestion: run `criteria suggest` first")
        found = Suggestion.model_validate_json(raw)
        base = await self.store.criteria_version(profile, found.base_version)

        def apply(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
            if items != base.items:  # checked inside the store's optimistic lock
                raise InputError(
                    f"the criteria changed since the suggestion (made for v{base.version}); "
                    "run `criteria suggest` again"
                )
            return list(found.items), "suggest", f"accepted suggestion: {found.reason}"

        new = await self.store.update_criteria(profile, apply, user)
        await self.store.drop_suggestion(profile)
        return Reply(
            text=f"Criteria version {new.version}: {new.detail}\n" + _criteria_lines(new.items),
            data=new.model_dump(mode="json"),
            visibility="channel",
        )

    async def _criteria_edit(
        self,
        profile: str,
        action: str,
        text: str | None,
        cid: str | None,
        against: bool,
        version: int | None,
    ) -> CriteriaEdit:
        """The edit the store applies atomically (the parameters are checked already)."""
        if action == "add":
            new_text = strip_invisible(text or "").strip()

            def add(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
                result, new = crit.add_criterion(items, new_text, cid, against)
                return result, "add", f"added {new.id}"

            return add
        if action == "remove":
            gone = str(cid)
            return lambda items: (crit.remove_criterion(items, gone), "remove", f"removed {gone}")
        if action == "edit":
            target_id, new_text = str(cid), strip_invisible(text or "")
            return lambda items: (
                crit.edit_criterion(items, target_id, new_text),
                "edit",
                f"edited {target_id}",
            )
        assert action == "rollback" and version is not None
        target = (await self.store.criteria_version(profile, version)).items

        def rollback(items: list[Criterion]) -> tuple[list[Criterion], str, str]:
            if items == target:
                raise InputError(f"the criteria already equal version {version}")
            return list(target), "rollback", f"rolled back to version {version}"

        return rollback


def _criteria_lines(items: list[Criterion]) -> str:
    return "\n".join(
        f"- {c.id}: {c.title}{' (against)' if c.kind == 'exclude' else ''}: {c.text}" for c in items
    )
