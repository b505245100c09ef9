// tribe dashboard: the overview, a segment's page (with its persona and the refine form) and
// the side-by-side comparison of two segments. Each view is tribe.views.NAME(box, args): it
// fills box (not yet on the page) and returns when it is ready to be shown.
"use strict";

(function () {
  const { h, add, fmt, feature, charts, api, colour, segment, segLabel, swatch } = tribe;
  const st = tribe.state;
  const CUSTOMERS = "#7A8CA3", REVENUE = "#0B5FA5";

  const card = (title, cls, ...body) => h("section", { class: "card " + (cls || "") }, title ? h("h2", { text: title }) : null, body);
  const tile = (label, value, extra) => h("div", { class: "tile" }, h("span", { class: "tlabel", text: label }),
    h("strong", { class: "tvalue", text: value }), extra ? h("span", { class: "muted", text: extra }) : null);
  const ids = (x) => (x === null || x === undefined ? [] : Array.isArray(x) ? x : [x]);
  const idOf = (x) => (x !== null && typeof x === "object" ? String(x.id) : String(x));
  const nameOf = (x) => (x !== null && typeof x === "object" && x.name ? `#${x.id} ${x.name}` : segLabel(idOf(x)));

  // ---- overview --------------------------------------------------------------------------------
  function segmentsCard() {
    const rows = st.segments.map((g) => ({
      key: g.id, cls: "seg-bar", href: `#/segment/${encodeURIComponent(g.id)}`, swatch: swatch(g.id), label: `${g.name}`,
      bars: [{ value: g.share, colour: CUSTOMERS, name: "customers" }, { value: g.revenue_share, colour: REVENUE, name: "revenue" }],
      note: `${fmt.int(g.size)} customers` + (g.persona && g.persona.name ? ` · ${g.persona.name}` : ""),
    }));
    return card("Segments: who they are and what they bring", "wide",
      charts.hbars(rows, { max: Math.max(...rows.flatMap((r) => r.bars.map((b) => b.value || 0))), format: fmt.pct,
        legend: [["share of customers", CUSTOMERS], ["share of revenue", REVENUE]], figcls: "segbars",
        caption: "Open a segment for its profile, persona and campaign." }));
  }

  function kCard(kc) {
    if (!kc || !kc.rows || !kc.rows.length) return card("Number of segments", "", h("p", { class: "muted", text: "This run used a fixed K: no sweep to show." }));
    const col = (name) => kc.columns.indexOf(name);
    const xs = kc.rows.map((r) => r[col("k")]);
    const series = (name) => (col(name) < 0 ? null : kc.rows.map((r) => r[col(name)]));
    const chosen = st.k;
    const panels = [["Silhouette", "silhouette", "high"], ["Calinski-Harabasz", "calinski_harabasz", "high"],
                    ["Davies-Bouldin", "davies_bouldin", "low"], ["Stability (ARI)", "stability_ari", "high"]]
      .map(([title, c, better]) => (series(c) ? charts.line({ title, xs, ys: series(c), mark: chosen, better }) : null));
    return card("Number of segments (K)", "wide kchoice",
      h("p", { class: "lead" }, h("strong", { text: `K = ${chosen}. ` }), h("span", { text: kc.reason || "" })),
      h("div", { class: "small-multiples" }, panels),
      h("p", { class: "muted", text: `Each K from ${Math.min(...xs)} to ${Math.max(...xs)} was fitted; the ring marks the chosen one` +
        (kc.elbow_k ? `; the inertia elbow is at K = ${kc.elbow_k}.` : ".") }));
  }

  const psiLevel = (v) => (v >= 0.25 ? ["major shift", "#B2182B"] : v >= 0.1 ? ["moderate shift", "#C77C02"] : ["stable", "#1B7837"]);
  function driftCard(drift) {
    if (!drift) return card("Drift since the last run", "", h("p", { class: "muted", text: "No previous run to compare with: this is the first run of its history." }));
    const rows = [...drift].sort((a, b) => (b.psi || 0) - (a.psi || 0)).map((d) => {
      const [level, c] = psiLevel(d.psi || 0);
      return { key: d.feature, label: feature(d.feature), bars: [{ value: d.psi, colour: c, name: `PSI (${level})` }] };
    });
    return card("Drift since the last run", "drift",
      charts.hbars(rows, { max: Math.max(0.3, ...drift.map((d) => d.psi || 0)), format: (v) => fmt.num(v),
        legend: [["stable (PSI < 0.1)", "#1B7837"], ["moderate (0.1–0.25)", "#C77C02"], ["major (≥ 0.25)", "#B2182B"]],
        caption: "Population stability index of each feature against the previous run." }));
  }

  const KIND = { survived: "kept", split: "split", absorbed: "merged", disappeared: "gone", emerged: "new" };
  function changesCard(ch) {
    if (!ch) return card("What changed since the last run", "", h("p", { class: "muted", text: "No previous run: nothing to compare yet." }));
    const list = h("ul", { class: "transitions" });
    for (const t of ch.transitions || []) {
      const kind = t.kind || t.type || "";
      const from = ids(t.from).map(nameOf), to = ids(t.to).map(nameOf);
      add(list, h("li", { "data-kind": kind },
        h("span", { class: "badge k-" + kind, text: KIND[kind] || kind }),
        h("span", { class: "flow" }, h("span", { text: from.join(" + ") || "(new)" }), h("span", { class: "arrow", "aria-label": "becomes", text: " → " }),
          h("span", { text: to.join(" + ") || "(gone)" })),
        t.text ? h("span", { class: "muted small", text: t.text }) : null));
    }
    const counts = ["continuing_customers", "new_customers", "gone_customers"].filter((k) => typeof ch[k] === "number");
    return card("What changed since the last run", "changes",
      counts.length ? h("div", { class: "tiles" }, counts.map((k) => tile(k.replace("_customers", "").replace(/^./, (c) => c.toUpperCase()) + " customers", fmt.int(ch[k])))) : null,
      (ch.transitions || []).length ? list : h("p", { class: "muted", text: "No transitions recorded." }),
      (ch.warnings || []).length ? h("ul", { class: "warnings" }, ch.warnings.map((w) => h("li", { text: typeof w === "string" ? w : JSON.stringify(w) }))) : null);
  }

  function mapCard(pr) {
    if (!pr || !pr.points || !pr.points.length) return null;
    const legend = h("ul", { class: "legend seglegend" }, st.segments.map((g) =>
      h("li", null, h("a", { href: `#/segment/${encodeURIComponent(g.id)}` }, swatch(g.id), h("span", { text: g.name })))));
    return card("Customer map", "wide map",
      charts.scatter(pr.points, colour, pr.x_axis || "first principal component", pr.y_axis || "second principal component",
        `A sample of ${fmt.int(pr.points.length)} customers on the two main directions of difference; near means alike.`), legend);
  }

  tribe.views.overview = async (box) => {
    const cur = st.current || {};
    const run = cur.run || {};
    const biggest = [...st.segments].sort((a, b) => b.size - a.size)[0];
    const richest = [...st.segments].sort((a, b) => (b.revenue_share || 0) - (a.revenue_share || 0))[0];
    add(box, h("h1", { text: "Overview" }),
      h("div", { class: "tiles" }, tile("Customers", fmt.int(run.customers)), tile("Segments", fmt.int(st.k)),
        biggest ? tile("Largest segment", biggest.name, fmt.pct(biggest.share) + " of customers") : null,
        richest ? tile("Most revenue", richest.name, fmt.pct(richest.revenue_share) + " of revenue") : null),
      (cur.warnings || []).length ? h("ul", { class: "warnings card" }, cur.warnings.map((w) => h("li", { text: w }))) : null,
      h("div", { class: "grid" }, segmentsCard(), mapCard(cur.projection), kCard(cur.k_choice), driftCard(cur.drift), changesCard(cur.changes)));
  };

  // ---- a segment ---------------------------------------------------------------------------------
  // a persona as a card; fields that differ from `other` are marked (the refine comparison)
  function personaCard(p, other, heading) {
    if (!p) return h("p", { class: "muted", text: "No persona for this segment." });
    const diff = (k) => (other && JSON.stringify(other[k]) !== JSON.stringify(p[k]) ? "changed" : null);
    const field = (k, node) => (p[k] === undefined || p[k] === null || p[k] === "" ? null : build(node, diff(k)));
    const build = (node, cls) => (cls ? (node.classList.add(cls), node) : node);
    const items = (k, title) => (Array.isArray(p[k]) && p[k].length
      ? build(h("div", { class: "pfield" }, h("h4", { text: title }), h("ul", null, p[k].map((x) => h("li", { text: x })))), diff(k)) : null);
    return h("article", { class: "persona" },
      heading ? h("p", { class: "phead", text: heading }) : null,
      h("div", { class: "pname" }, h("span", { class: "avatar", "aria-hidden": "true", text: (p.name || "?").trim().charAt(0) }),
        h("div", null, field("name", h("h3", { text: p.name })), field("tagline", h("p", { class: "tagline", text: p.tagline })),
          h("p", { class: "muted small", text: [p.age_band, p.occupation].filter(Boolean).join(" · ") }))),
      field("quote", h("blockquote", { text: p.quote })),
      field("bio", h("p", { class: "bio", text: p.bio })),
      h("div", { class: "pcols" }, items("goals", "Goals"), items("frustrations", "Frustrations")),
      field("channels", h("p", { class: "chips" }, (p.channels || []).map((c) => h("span", { class: "chip", text: c })))),
      field("email_subject", h("div", { class: "email" }, h("h4", { text: "E-mail" }), h("p", { class: "subject", text: p.email_subject }),
        h("pre", { class: "body", text: p.email_body || "" }))),
      h("p", { class: "muted small", text: `written by ${p.provider || "–"}` + (p.version ? ` · version ${p.version}` : "") }));
  }

  async function versionsList(id) {
    const box = h("div", { class: "versions" });
    try {
      const v = await api("GET", `/v1/segments/${encodeURIComponent(id)}/persona/versions`);
      const vs = v.versions || [];
      add(box, h("h4", { text: "Saved versions" }), vs.length
        ? h("ol", null, vs.map((x) => h("li", { text: `version ${x.version} · ${fmt.date(x.saved)} · ${x.by || ""} · ${x.provider || ""}` })))
        : h("p", { class: "muted small", text: "Only the run's own persona so far." }));
    } catch (e) {
      add(box, h("p", { class: "muted small", text: `Versions unavailable (${e.message}).` }));
    }
    return box;
  }

  // the refine API's channel keys (docs/personas-llm.md) and the names personas use for them
  const CHANNELS = [["email", "E-mail"], ["sms", "SMS"], ["push", "Push notifications"], ["social", "Social media"],
                    ["direct_mail", "Direct mail"], ["web", "Web"], ["app", "In-app messages"]];
  const MAX_CHANNELS = 6;
  // the refine form; on an answer shows current and proposed side by side with Save
  function refineForm(id, persona, area) {
    const have = new Set((persona.channels || []).map((c) => String(c).toLowerCase()));
    const checks = CHANNELS.map(([key, name]) => h("label", null,
      h("input", { type: "checkbox", name: "channels", value: key, checked: have.has(name.toLowerCase()) || have.has(key) }), " ", name));
    const f = h("form", { class: "refine", "aria-label": "Refine the persona" },
      h("div", { class: "field" }, h("label", { for: "r-tone", text: "Tone" }),
        h("input", { id: "r-tone", name: "tone", list: "tones", placeholder: "e.g. warm, playful", maxlength: 500 }),
        h("datalist", { id: "tones" }, ["friendly", "formal", "playful", "premium", "urgent", "reassuring"].map((t) => h("option", { value: t })))),
      h("div", { class: "field" }, h("label", { for: "r-brand", text: "Brand guidance" }),
        h("textarea", { id: "r-brand", name: "brand_guidance", rows: 3, maxlength: 500, placeholder: "What the brand always / never says" })),
      h("div", { class: "field" }, h("label", { for: "r-emph", text: "Emphasis" }),
        h("input", { id: "r-emph", name: "emphasis", maxlength: 500, placeholder: "e.g. order value, visits, tenure" })),
      h("fieldset", { class: "checks" }, h("legend", { text: `Channels (up to ${MAX_CHANNELS})` }), checks),
      h("button", { type: "submit", text: "Refine with the model" }));
    f.addEventListener("change", (ev) => {
      if (ev.target.name === "channels" && f.querySelectorAll("input[name=channels]:checked").length > MAX_CHANNELS) {
        ev.target.checked = false;
        tribe.say(`A persona has at most ${MAX_CHANNELS} channels.`, "info");
      }
    });
    f.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const btn = f.querySelector("button");
      btn.disabled = true;
      btn.textContent = "Asking the model…";
      const body = { tone: f.tone.value.trim(), brand_guidance: f.brand_guidance.value.trim(), emphasis: f.emphasis.value.trim(),
                     channels: [...f.querySelectorAll("input[name=channels]:checked")].map((x) => x.value) };
      try {
        const r = await api("POST", `/v1/segments/${encodeURIComponent(id)}/persona:refine`, body);
        showProposal(id, r, area);
      } catch (e) {
        tribe.sayError(e);
      } finally {
        btn.disabled = false;
        btn.textContent = "Refine with the model";
      }
    });
    return f;
  }

  function showProposal(id, r, area) {
    const save = h("button", { type: "button", class: "primary", text: "Save as new version" });
    const discard = h("button", { type: "button", text: "Discard" });
    const out = h("div", { class: "proposal", "aria-live": "polite" },
      h("h3", { text: "Current and proposed, side by side" }),
      h("p", { class: "muted small", text: "Changed parts of the proposal are highlighted." }),
      h("div", { class: "side" }, personaCard(r.current, null, "Current"), personaCard(r.proposed, r.current, "Proposed")),
      h("div", { class: "actions" }, save, discard));
    discard.addEventListener("click", () => out.remove());
    save.addEventListener("click", async () => {
      save.disabled = true;
      try {
        const v = await api("POST", `/v1/segments/${encodeURIComponent(id)}/persona/versions`, { draft: r.draft });
        delete st.cache[id];
        tribe.say(`Saved persona version ${v.version} for ${segLabel(id)}.`, "ok");
        tribe.go(`#/segment/${encodeURIComponent(id)}`);
      } catch (e) {
        save.disabled = false;
        tribe.sayError(e);
      }
    });
    area.querySelector(".proposal")?.remove();
    add(area, out);
    out.scrollIntoView({ block: "start" });
  }

  function personaSection(id, d) {
    const area = h("div", { class: "refine-area" });
    const sec = card("Persona", "wide personacard", personaCard(d.persona), area);
    if (!d.persona) return sec;
    if (tribe.canWrite()) {
      const open = h("button", { type: "button", class: "primary", "aria-expanded": "false", text: "Refine this persona" });
      open.addEventListener("click", () => {
        const f = area.querySelector("form.refine");
        if (f) {
          f.remove();
          open.setAttribute("aria-expanded", "false");
          open.textContent = "Refine this persona";
        } else {
          area.prepend(refineForm(id, d.persona, area));
          open.setAttribute("aria-expanded", "true");
          open.textContent = "Close the refine form";
          area.querySelector("#r-tone").focus();
        }
      });
      add(area, open);
    } else {
      add(area, h("p", { class: "muted small", text: "Refining a persona needs a write token." }));
    }
    versionsList(id).then((v) => add(sec, v));
    return sec;
  }

  function planCard(id, plan) {
    if (!plan) return null;
    const rows = [["Campaign", plan.campaign], ["Channel", plan.channel], ["Why this channel", plan.channel_basis],
      ["Tone", plan.tone], ["Timing", plan.timing], ["Expected response", fmt.pct(plan.response_rate)],
      ["Order value", fmt.money(plan.order_value)], ["Expected value", fmt.money(plan.expected_value)],
      ["Priority", plan.priority], ["Value tier", plan.value_tier]].filter((r) => r[1] !== undefined && r[1] !== null);
    return card("Campaign plan", "plan", h("dl", { class: "kv" }, rows.map(([k, v]) => [h("dt", { text: k }), h("dd", { text: v })])),
      h("a", { class: "button", href: `#/campaign/${encodeURIComponent(id)}`, text: "Preview and send this campaign" }));
  }

  function driversCard(drivers, title) {
    title = title || "What sets it apart";
    if (!drivers || !drivers.length) return card(title, "", h("p", { class: "muted", text: "No driver model in this run." }));
    const top = [...drivers].sort((a, b) => b.mean_abs_shap - a.mean_abs_shap).slice(0, 8);
    return card(title, "drivers", charts.hbars(top.map((d) => ({ key: d.feature, label: feature(d.feature),
      bars: [{ value: d.mean_abs_shap, colour: "#5E3C99", name: "influence" }] })), { format: fmt.num,
      caption: "How much each feature decides membership of this segment (mean |SHAP|, log-odds)." }));
  }

  function profileCard(id, profile) {
    const c = colour(id);
    const grid = h("div", { class: "profile" });
    for (const f of profile || []) {
      const name = feature(f.feature);
      add(grid, h("div", { class: "feat", "data-feature": f.feature },
        h("h3", { text: name }),
        f.histogram ? charts.histogram(f.histogram, c, name) : null,
        f.base ? charts.quartiles([{ label: "this segment", q1: f.q1, median: f.median, q3: f.q3, colour: c },
          { label: "all customers", q1: f.base.q1, median: f.base.median, q3: f.base.q3, colour: "#666" }], name) : null,
        h("table", { class: "qt" }, h("thead", null, h("tr", null, ["", "q1", "median", "q3", "mean"].map((t) => h("th", { scope: "col", text: t })))),
          h("tbody", null,
            h("tr", null, h("th", { scope: "row", text: "segment" }), [f.q1, f.median, f.q3, f.mean].map((v) => h("td", { text: fmt.num(v) }))),
            f.base ? h("tr", { class: "base" }, h("th", { scope: "row", text: "all" }), [f.base.q1, f.base.median, f.base.q3, f.base.mean].map((v) => h("td", { text: fmt.num(v) }))) : null))));
    }
    return card("Profile: this segment against all customers", "wide", h("p", { class: "muted small" },
      "Bars: the segment's distribution; outline: all customers. Strips: the middle half (q1 to q3) with the median marked."), grid);
  }

  function customersCard(id) {
    const table = h("table", { class: "custs" }, h("thead", null, h("tr", null,
      ["Customer", "Membership", "Predicted value", "Outlier"].map((t) => h("th", { scope: "col", text: t })))), h("tbody"));
    const more = h("button", { type: "button", text: "Show more" });
    let cursor = null;
    async function page() {
      more.disabled = true;
      try {
        const q = `limit=20${cursor ? "&cursor=" + encodeURIComponent(cursor) : ""}`;
        const r = await api("GET", `/v1/segments/${encodeURIComponent(id)}/customers?${q}`);
        for (const x of r.customers || []) {
          table.tBodies[0].append(h("tr", null, h("td", null, h("a", { href: `#/customer/${encodeURIComponent(x.customer_id)}`, text: x.customer_id })),
            h("td", { text: fmt.pct(x.p) }), h("td", { text: fmt.num(x.predicted_value) }), h("td", { text: x.outlier ? "yes" : "" })));
        }
        cursor = r.next_cursor;
        more.hidden = !cursor;
      } catch (e) {
        tribe.sayError(e);
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener("click", page);
    page();
    return card("Customers", "custcard", h("div", { class: "scrollx" }, table), more);
  }

  function transitionText(t) {
    if (!t) return "–";
    const kind = t.kind || t.type;
    const from = ids(t.from).map(nameOf).join(" + ");
    return from ? `${KIND[kind] || kind} (from ${from})` : KIND[kind] || kind;
  }

  tribe.views.segment = async (box, args) => {
    const id = args[0] || st.segments[0].id;
    const d = await tribe.segmentDetail(id);
    const g = d.segment || segment(id) || {};
    const pick = tribe.segmentSelect("seg-pick", "Segment", String(id), (v) => tribe.go(`#/segment/${encodeURIComponent(v)}`));
    const ltv = g.ltv_mean;
    add(box, h("div", { class: "viewhead" }, h("h1", null, swatch(id), h("span", { text: ` ${g.name || segLabel(id)}` })), pick),
      g.persona && g.persona.tagline ? h("p", { class: "lead", text: g.persona.tagline }) : null,
      h("div", { class: "tiles" }, tile("Customers", fmt.int(g.size), fmt.pct(g.share) + " of all"),
        tile("Revenue", fmt.pct(g.revenue_share), "of all revenue"),
        tile("Predicted value", ltv === null || ltv === undefined ? "not modelled" : fmt.money(ltv), ltv === null || ltv === undefined ? "no LTV model in this run" : "mean per customer"),
        tile("Outliers", fmt.int(g.outliers), g.size ? fmt.pct((g.outliers || 0) / g.size) + " of the segment" : null),
        tile("Since the last run", transitionText(g.transition))),
      h("div", { class: "grid" }, personaSection(id, d), planCard(id, d.plan), driversCard(d.drivers), profileCard(id, d.profile), customersCard(id)));
  };

  // ---- compare two segments ------------------------------------------------------------------------
  // how far apart two medians are, in units of all customers' interquartile range
  function gap(fa, fb) {
    const base = fa.base || fb.base || {};
    const unit = Math.abs((base.q3 || 0) - (base.q1 || 0)) || Math.abs(base.median || 0) || 1;
    return (fb.median - fa.median) / unit;
  }

  // Cliff's delta of the first segment against the second (Romano et al. 2006 bands; docs/clustering.md)
  function cliff(fa, b) {
    const v = fa.cliffs_delta ? fa.cliffs_delta[String(b)] : undefined;
    if (typeof v !== "number") return "–";
    const m = Math.abs(v), w = m < 0.147 ? "negligible" : m < 0.33 ? "small" : m < 0.474 ? "medium" : "large";
    return `${v > 0 ? "+" : ""}${v.toFixed(2)} (${w})`;
  }

  tribe.views.compare = async (box, args) => {
    const a = args[0] || st.segments[0].id;
    const b = args[1] || (st.segments[1] || st.segments[0]).id;
    const [da, db] = await Promise.all([tribe.segmentDetail(a), tribe.segmentDetail(b)]);
    const nav = (x, y) => tribe.go(`#/compare/${encodeURIComponent(x)}/${encodeURIComponent(y)}`);
    const ga = da.segment || segment(a), gb = db.segment || segment(b);
    const head = (g, d) => h("div", { class: "cmphead card" }, h("h2", null, swatch(g.id), h("span", { text: ` ${g.name}` })),
      h("p", { class: "muted", text: `${fmt.int(g.size)} customers (${fmt.pct(g.share)}) · ${fmt.pct(g.revenue_share)} of revenue` }),
      d.persona ? h("p", null, h("strong", { text: d.persona.name || "" }), h("span", { text: d.persona.tagline ? ` – ${d.persona.tagline}` : "" })) : null,
      d.plan ? h("p", { class: "small", text: `Campaign: ${d.plan.campaign} (${d.plan.channel})` }) : null);
    const bf = new Map((db.profile || []).map((f) => [f.feature, f]));
    const rows = (da.profile || []).filter((f) => bf.has(f.feature)).map((fa) => {
      const fb = bf.get(fa.feature), d = gap(fa, fb), big = Math.abs(d) >= 0.5 ? "big" : Math.abs(d) >= 0.2 ? "some" : "";
      const name = feature(fa.feature);
      const says = !big ? "about the same" : `${d > 0 ? gb.name : ga.name} higher`;
      return h("tr", { class: big ? "diff " + big : "", "data-feature": fa.feature },
        h("th", { scope: "row", text: name }),
        h("td", { text: `${fmt.num(fa.median)} (${fmt.num(fa.q1)}–${fmt.num(fa.q3)})` }),
        h("td", { text: `${fmt.num(fb.median)} (${fmt.num(fb.q1)}–${fmt.num(fb.q3)})` }),
        h("td", { class: "strip" }, charts.quartiles([{ label: ga.name, q1: fa.q1, median: fa.median, q3: fa.q3, colour: colour(a) },
          { label: gb.name, q1: fb.q1, median: fb.median, q3: fb.q3, colour: colour(b) }], name, 480)),
        h("td", { class: "says" }, big ? h("span", { class: "badge diff-" + big, text: big === "big" ? "different" : "a little" }) : null, " ", says),
        h("td", { class: "cliff", text: cliff(fa, b) }));
    });
    add(box, h("h1", { text: "Compare two segments" }),
      h("div", { class: "pickers" }, tribe.segmentSelect("cmp-a", "First segment", String(a), (v) => nav(v, b)),
        tribe.segmentSelect("cmp-b", "Second segment", String(b), (v) => nav(a, v))),
      h("div", { class: "side" }, head(ga, da), head(gb, db)),
      card("Profiles side by side", "wide", h("p", { class: "muted small", text: "Median (middle half). Highlighted rows differ by at least half of all customers' interquartile range. Cliff's δ: how often a customer of the first segment is above one of the second, minus how often below (−1 to 1; |δ| below 0.147 negligible, 0.33 small, 0.474 medium, else large)." }),
        h("div", { class: "scrollx" }, h("table", { class: "cmp" },
          h("thead", null, h("tr", null, h("th", { scope: "col", text: "Feature" }), h("th", { scope: "col", text: ga.name }),
            h("th", { scope: "col", text: gb.name }), h("th", { scope: "col", text: "Middle half" }), h("th", { scope: "col", text: "Difference" }),
            h("th", { scope: "col", title: "P(first > second) − P(first < second) over all pairs of customers", text: "Cliff's δ" }))),
          h("tbody", null, rows)))),
      h("div", { class: "side" }, driversCard(da.drivers, `What sets ${ga.name} apart`), driversCard(db.drivers, `What sets ${gb.name} apart`)));
  };

  Object.assign(tribe, { card, tile, personaCard });
})();
