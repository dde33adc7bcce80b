"""Who is acting: the authenticated actor, local accounts, tokens, sessions, factors.

Submodules are imported by their users (the audit log imports only :mod:`.actor`),
so importing this package stays cheap and free of cycles.
"""

from stagewall.identity.actor import Actor, ActorClass, LoginMethod, StepUp, acting, current_actor

__all__ = ["Actor", "ActorClass", "LoginMethod", "StepUp", "acting", "current_actor"]
