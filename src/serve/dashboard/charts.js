// tribe dashboard: the pictures, as inline SVG built with tribe.s (no library). Every chart
// is a <figure> with a caption; the SVG has role="img" and an aria-label that says what it shows.
"use strict";

(function () {
  const { h, s, fmt } = tribe;

  // about n round tick values covering [lo, hi]
  function ticks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((x) => x >= raw) || raw;
    const out = [];
    for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(+t.toPrecision(12));
    return out;
  }
  const scale = (d0, d1, r0, r1) => (v) => (d1 === d0 ? (r0 + r1) / 2 : r0 + ((v - d0) / (d1 - d0)) * (r1 - r0));
  const figure = (cls, caption, ...body) =>
    h("figure", { class: "chart " + (cls || "") }, body, caption ? h("figcaption", { text: caption }) : null);

  // Horizontal bars, one row per item: rows [{label, key?, href?, swatch?, bars: [{value, colour,
  // name}], note?}] with every value in [0, max]. A row is a link when it has href. Each bar is an
  // SVG rect whose width is its share of max, so the chart reflows with the page.
  function hbars(rows, opt) {
    const max = opt.max || Math.max(1e-12, ...rows.flatMap((r) => r.bars.map((b) => b.value || 0)));
    const format = opt.format || fmt.num;
    const list = h("div", { class: "hbars " + (opt.cls || ""), role: "list" });
    for (const r of rows) {
      const n = r.bars.length;
      const svg = s("svg", { class: "track", height: n * 14, "aria-hidden": "true", preserveAspectRatio: "none" },
        r.bars.map((b, i) => s("rect", { class: "bar", x: 0, y: i * 14 + 1, height: 12, rx: 2, fill: b.colour,
                                         width: `${Math.max(0.3, (100 * (b.value || 0)) / max)}%` })));
      const vals = h("span", { class: "vals" }, r.bars.map((b) => h("span", { class: "val", text: format(b.value) })));
      const label = h("span", { class: "lab" }, r.swatch || null, h("span", { text: r.label }));
      const said = r.bars.map((b) => `${b.name || ""} ${format(b.value)}`.trim()).join(", ");
      const row = r.href
        ? h("a", { class: "row", href: r.href, role: "listitem", "aria-label": `${r.label}: ${said}` }, label, svg, vals)
        : h("div", { class: "row", role: "listitem", "aria-label": `${r.label}: ${said}` }, label, svg, vals);
      if (r.key !== undefined) row.dataset.key = r.key;
      if (r.cls) row.classList.add(r.cls);
      if (r.note) row.appendChild(h("span", { class: "note", text: r.note }));
      list.appendChild(row);
    }
    const legend = opt.legend ? h("div", { class: "legend" }, opt.legend.map(([name, colour]) =>
      h("span", null, s("svg", { width: 12, height: 12, "aria-hidden": "true" }, s("rect", { width: 12, height: 12, rx: 2, fill: colour })), name))) : null;
    return figure(opt.figcls, opt.caption, legend, list);
  }

  // A line chart of ys against xs with the chosen x marked: {title, xs, ys, mark, better, format}.
  function line(opt) {
    const W = 260, H = 150, L = 44, R = 10, T = 12, B = 26;
    const ys = opt.ys.filter((v) => v !== null && isFinite(v));
    if (!ys.length) return null;
    const lo = Math.min(...ys), hi = Math.max(...ys), pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.1 || 1;
    const x = scale(Math.min(...opt.xs), Math.max(...opt.xs), L, W - R);
    const y = scale(lo - pad, hi + pad, H - B, T);
    const pts = opt.xs.map((k, i) => [k, opt.ys[i]]).filter((p) => p[1] !== null && isFinite(p[1]));
    const g = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `${opt.title} for K ${opt.xs.join(", ")}: ${pts.map((p) => fmt.num(p[1])).join(", ")}; chosen K ${opt.mark}` });
    for (const t of ticks(lo - pad, hi + pad, 3)) {
      g.append(s("line", { class: "gridline", x1: L, x2: W - R, y1: y(t), y2: y(t) }),
        s("text", { class: "tick", x: L - 4, y: y(t) + 3, "text-anchor": "end", text: fmt.num(t) }));
    }
    for (const k of opt.xs) g.append(s("text", { class: "tick", x: x(k), y: H - B + 14, "text-anchor": "middle", text: k }));
    g.append(s("text", { class: "tick", x: W - R, y: H - 1, "text-anchor": "end", text: "K (segments)" }));
    if (opt.mark !== undefined && opt.mark !== null) {
      g.append(s("line", { class: "mark", x1: x(opt.mark), x2: x(opt.mark), y1: T, y2: H - B }));
    }
    g.append(s("polyline", { class: "series", fill: "none", points: pts.map((p) => `${x(p[0])},${y(p[1])}`).join(" ") }));
    for (const [k, v] of pts) {
      g.append(s("circle", { class: k === opt.mark ? "dot chosen" : "dot", cx: x(k), cy: y(v), r: k === opt.mark ? 4.5 : 3 },
        s("title", { text: `K=${k}: ${fmt.num(v)}` })));
    }
    return figure("line", null, h("div", { class: "charthead" }, h("strong", { text: opt.title }),
      h("span", { class: "muted", text: opt.better === "high" ? " higher is better" : " lower is better" })), g);
  }

  // A scatter of points [[x, y, key]] coloured by colourOf(key), axes named.
  function scatter(points, colourOf, xName, yName, caption) {
    const W = 480, H = 320, L = 36, R = 10, T = 10, B = 30;
    const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
    const x = scale(Math.min(...xs), Math.max(...xs), L, W - R);
    const y = scale(Math.min(...ys), Math.max(...ys), H - B, T);
    const g = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", class: "scatter",
      "aria-label": `${points.length} customers placed by ${xName} and ${yName}, coloured by segment` });
    g.append(s("rect", { class: "plot", x: L, y: T, width: W - L - R, height: H - T - B }));
    const byKey = {};
    for (const p of points) (byKey[p[2]] = byKey[p[2]] || []).push(p);
    for (const [key, ps] of Object.entries(byKey)) {
      const grp = s("g", { fill: colourOf(key), "data-key": key });
      for (const p of ps) grp.append(s("circle", { cx: x(p[0]).toFixed(1), cy: y(p[1]).toFixed(1), r: 2.2 }));
      g.append(grp);
    }
    g.append(s("text", { class: "axis", x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle", text: xName }),
      s("text", { class: "axis", x: 12, y: (T + H - B) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(T + H - B) / 2})`, text: yName }));
    return figure("scatterfig", caption, g);
  }

  // A histogram of a segment against the whole base, both as shares of their customers:
  // {edges[n+1], counts[n], base_counts[n]}, the segment's colour.
  function histogram(hist, colour, name) {
    const W = 240, H = 96, L = 4, R = 4, T = 6, B = 18;
    const n = hist.counts.length;
    const sum = (a) => a.reduce((u, v) => u + v, 0) || 1;
    const seg = hist.counts.map((c) => c / sum(hist.counts));
    const base = (hist.base_counts || []).map((c) => c / sum(hist.base_counts));
    const top = Math.max(...seg, ...base, 1e-12);
    const bw = (W - L - R) / n, y = scale(0, top, H - B, T);
    const g = s("svg", { viewBox: `0 0 ${W} ${H}`, role: "img",
      "aria-label": `${name}: distribution in the segment (coloured) against all customers (outline), from ${fmt.num(hist.edges[0])} to ${fmt.num(hist.edges[n])}` });
    for (let i = 0; i < n; i++) {
      const lbl = `${fmt.num(hist.edges[i])} to ${fmt.num(hist.edges[i + 1])}: segment ${fmt.pct(seg[i])}` +
        (base.length ? `, all customers ${fmt.pct(base[i])}` : "");
      g.append(s("rect", { class: "hseg", x: L + i * bw + 0.5, width: Math.max(0, bw - 1), y: y(seg[i]), height: H - B - y(seg[i]), fill: colour },
        s("title", { text: lbl })));
    }
    if (base.length) {
      let d = `M${L},${H - B}`;
      base.forEach((v, i) => (d += ` L${L + i * bw},${y(v)} L${L + (i + 1) * bw},${y(v)}`));
      g.append(s("path", { class: "hbase", d: d + ` L${W - R},${H - B}`, fill: "none" }));
    }
    g.append(s("line", { class: "axisline", x1: L, x2: W - R, y1: H - B, y2: H - B }),
      s("text", { class: "tick", x: L, y: H - 4, text: fmt.num(hist.edges[0]) }),
      // the middle edge too: bins of log-transformed features are not evenly spaced in the units shown
      s("text", { class: "tick", x: L + (n / 2) * bw, y: H - 4, "text-anchor": "middle", text: fmt.num(hist.edges[Math.floor(n / 2)]) }),
      s("text", { class: "tick", x: W - R, y: H - 4, "text-anchor": "end", text: fmt.num(hist.edges[n]) }));
    return g;
  }

  // Quartile strips on one axis: rows [{label, q1, median, q3, colour}]; the box spans q1..q3,
  // the tick is the median. W: the drawing's width in units of its 16-unit rows (default 240).
  function quartiles(rows, name, W = 240) {
    const rowH = 16, L = 4, R = 4;
    const lo = Math.min(...rows.map((r) => r.q1)), hi = Math.max(...rows.map((r) => r.q3));
    const pad = (hi - lo) * 0.05 || 1;
    const x = scale(lo - pad, hi + pad, L, W - R);
    const g = s("svg", { viewBox: `0 0 ${W} ${rows.length * rowH + 4}`, role: "img", class: "quart",
      "aria-label": `${name}: ` + rows.map((r) => `${r.label} middle half ${fmt.num(r.q1)} to ${fmt.num(r.q3)}, median ${fmt.num(r.median)}`).join("; ") });
    rows.forEach((r, i) => {
      const y0 = 2 + i * rowH;
      g.append(s("rect", { x: x(r.q1), y: y0 + 3, width: Math.max(1, x(r.q3) - x(r.q1)), height: rowH - 6, rx: 2, fill: r.colour, "fill-opacity": 0.35, stroke: r.colour }),
        s("line", { class: "median", x1: x(r.median), x2: x(r.median), y1: y0 + 1, y2: y0 + rowH - 1, stroke: r.colour }));
    });
    return g;
  }

  // One bar split into parts [{name, value, colour}] with a legend that gives the numbers.
  function stacked(parts, caption) {
    const total = parts.reduce((u, p) => u + (p.value || 0), 0) || 1;
    let at = 0;
    const g = s("svg", { class: "stacked", height: 22, role: "img", preserveAspectRatio: "none",
      "aria-label": parts.map((p) => `${p.name} ${fmt.int(p.value)}`).join(", ") });
    for (const p of parts) {
      const w = (100 * (p.value || 0)) / total;
      if (w > 0) g.append(s("rect", { x: `${at}%`, width: `${w}%`, y: 0, height: 22, fill: p.colour }, s("title", { text: `${p.name}: ${fmt.int(p.value)}` })));
      at += w;
    }
    const legend = h("ul", { class: "legend counts" }, parts.map((p) =>
      h("li", { "data-key": p.key || p.name }, s("svg", { width: 12, height: 12, "aria-hidden": "true" }, s("rect", { width: 12, height: 12, rx: 2, fill: p.colour })),
        h("span", { text: p.name }), h("strong", { text: fmt.int(p.value) }))));
    return figure("stackfig", caption, g, legend);
  }

  Object.assign(tribe.charts, { hbars, line, scatter, histogram, quartiles, stacked, ticks });
})();
