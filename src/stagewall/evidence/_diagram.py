"""A simple generated SVG of the estate: environments as columns, resources inside,
and who may reach each environment (internal roles, vendors' standing grants)."""

from __future__ import annotations

from html import escape

from stagewall.estate import Estate

_W, _ROW, _PAD = 260, 22, 12


def estate_svg(estate: Estate) -> str:
    envs = sorted(estate.environments.items(), key=lambda kv: (kv[1].tier.value, kv[0]))
    columns = []
    for name, env in envs:
        lines = [
            f"{r} ({res.kind.value})"
            for r, res in sorted(estate.resources.items())
            if res.environment == name
        ]
        who: set[str] = set()
        for role in estate.roles.values():
            if role.environment == name:
                who |= estate.expand(role.eligible)
        people = sorted(who)
        internal = [p for p in people if estate.is_internal(p)]
        external = [p for p in people if not estate.is_internal(p)]
        columns.append((name, env.tier.value, lines, internal, external))
    height = max(
        ((5 + sum(max(1, len(c[k])) for k in (2, 3, 4))) * _ROW for c in columns), default=100
    )
    width = max(1, len(columns)) * (_W + _PAD) + _PAD
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 2 * _PAD}" '
        f'viewBox="0 0 {width} {height + 2 * _PAD}" font-family="sans-serif" font-size="12">',
        f"<title>{escape(estate.organisation or 'estate')}: environments and access</title>",
    ]
    for i, (name, tier, res, internal, external) in enumerate(columns):
        x = _PAD + i * (_W + _PAD)
        prod = tier == "production"
        fill = "#fdecea" if prod else "#eaf4fd"
        out.append(
            f'<rect x="{x}" y="{_PAD}" width="{_W}" height="{height}" rx="8" '
            f'fill="{fill}" stroke="{"#a10000" if prod else "#1d4f91"}" stroke-width="2"/>'
        )
        y = _PAD + _ROW
        out.append(
            f'<text x="{x + 10}" y="{y}" font-weight="bold">{escape(name)} ({escape(tier)})</text>'
        )
        rows = [("resources", res), ("internal access", internal), ("external access", external)]
        for label, items in rows:
            y += _ROW
            out.append(f'<text x="{x + 10}" y="{y}" font-style="italic">{label}</text>')
            for item in items or ["none"]:
                y += _ROW
                colour = "#a10000" if label == "external access" and prod else "#222"
                out.append(f'<text x="{x + 22}" y="{y}" fill="{colour}">{escape(item)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


__all__ = ["estate_svg"]
