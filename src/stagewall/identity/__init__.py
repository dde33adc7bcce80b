"""Who is acting: the authenticated actor, local accounts, tokens, sessions, factors,
OpenID Connect logins (:mod:`.oidc`), CI workload identity (:mod:`.ci_oidc`) and
passkeys (:mod:`.webauthn`).

Submodules are imported by their users (the audit log imports only :mod:`.actor`),
so importing this package stays cheap and free of cycles.
"""

from stagewall.identity.actor import Actor, ActorClass, LoginMethod, StepUp, acting, current_actor

__all__ = ["Actor", "ActorClass", "LoginMethod", "StepUp", "acting", "current_actor"]
