// tribe dashboard: the customer look-up and the campaign module (preview, sandboxed send with
// progress, the live send behind a confirmation).
"use strict";

(function () {
  const { h, add, fill, fmt, feature, charts, api, colour, segLabel, swatch, card, tile } = tribe;
  const st = tribe.state;

  // ---- customer look-up ----------------------------------------------------------------------------
  function customerCard(c) {
    const seg = c.segment || {};
    const pv = c.predicted_value;
    const membership = (c.membership || []).map((m) => ({ key: m.segment_id, label: segLabel(m.segment_id), swatch: swatch(m.segment_id),
      bars: [{ value: m.p, colour: colour(m.segment_id), name: "membership" }] }));
    const drivers = (c.drivers || []).map((d) => ({ key: d.feature, label: `${feature(d.feature)} = ${fmt.num(d.value)}`,
      bars: [{ value: Math.abs(d.shap), colour: d.shap >= 0 ? "#1B7837" : "#B2182B", name: d.shap >= 0 ? "pulls in" : "pulls out" }],
      note: `${d.shap >= 0 ? "+" : "−"}${fmt.num(Math.abs(d.shap))} ${d.shap >= 0 ? "towards" : "away from"} this segment` }));
    const out = c.outlier || {};
    return h("article", { class: "card customer", "data-customer": c.customer_id },
      h("h2", null, h("span", { text: `Customer ${c.customer_id}` })),
      h("p", { class: "lead" }, swatch(seg.id), " ", h("a", { href: `#/segment/${encodeURIComponent(seg.id)}`, text: `${seg.name || segLabel(seg.id)}` }),
        c.persona && c.persona.name ? h("span", { class: "muted", text: ` · persona ${c.persona.name}` }) : null),
      h("div", { class: "tiles" },
        tile("Predicted value", pv && pv.amount !== null && pv.amount !== undefined ? fmt.money(pv.amount) : "not modelled",
          pv && pv.horizon_days ? `over the next ${fmt.int(pv.horizon_days)} days` : null),
        tile("Churn risk", c.churn_risk === null || c.churn_risk === undefined ? "not modelled" : fmt.pct(c.churn_risk)),
        tile("Outlier", out.flag ? "yes" : "no", out.flag ? "unusual for its segment" : "typical of its segment")),
      membership.length ? charts.hbars(membership, { max: 1, format: fmt.pct, caption: "How strongly the customer belongs to each segment (soft membership)." })
        : h("p", { class: "muted", text: "No soft membership in this run." }),
      drivers.length ? charts.hbars(drivers, { format: fmt.num, caption: "Why this segment: the customer's largest contributions (green pulls in, red pulls out)." }) : null,
      c.features ? h("dl", { class: "kv" }, Object.entries(c.features).map(([k, v]) => [h("dt", { text: feature(k) }), h("dd", { text: fmt.num(v) })])) : null,
      c.run ? h("p", { class: "muted small", text: `run ${c.run.id} · ${fmt.date(c.run.created)}` }) : null);
  }

  tribe.views.customer = async (box, args) => {
    const id = args[0] || "";
    const input = h("input", { id: "cust-id", name: "id", inputmode: "numeric", autocomplete: "off", value: id, required: true });
    const form = h("form", { class: "lookup", role: "search" }, h("label", { for: "cust-id", text: "Customer id" }), input,
      h("button", { type: "submit", text: "Look up" }));
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      if (input.value.trim()) tribe.go(`#/customer/${encodeURIComponent(input.value.trim())}`);
    });
    add(box, h("h1", { text: "Customer look-up" }), card(null, "", form));
    if (!id) return;
    try {
      add(box, customerCard(await api("GET", `/v1/customers/${encodeURIComponent(id)}`)));
    } catch (e) {
      if (e.status !== 404 && e.status !== 400) throw e;
      add(box, h("p", { class: "card error", role: "alert", text: e.message }));
    }
  };

  // ---- campaigns -------------------------------------------------------------------------------------
  const REASONS = [["would_send", "will be sent", "#1B7837"], ["sent", "sent", "#1B7837"], ["dry_run", "dry run (not sent)", "#56B4E9"],
    ["no_contact", "no contact details", "#7A7A7A"], ["opted_out", "opted out", "#C77C02"], ["suppressed", "on the suppression list", "#B2182B"],
    ["capped", "frequency cap reached", "#5E3C99"], ["failed", "failed", "#000000"]];
  const countsChart = (counts, caption) => charts.stacked(REASONS.filter(([k]) => typeof counts[k] === "number")
    .map(([k, name, c]) => ({ key: k, name, value: counts[k], colour: c })), caption);

  function messageCard(m, channel) {
    return h("article", { class: "message", "data-customer": m.customer_id },
      h("p", { class: "small muted", text: `to ${m.to || "–"} · customer ${m.customer_id}` }),
      channel === "email" && m.subject ? h("p", { class: "subject", text: m.subject }) : null,
      h("pre", { class: "body", text: m.body || "" }));
  }

  // polls a send until it ends; shows progress, then the per-reason summary
  async function follow(id, area) {
    const bar = h("progress", { max: 1, value: 0, "aria-label": "Send progress" });
    const text = h("span", { class: "small", text: "starting…" });
    const res = h("div", { class: "result", "aria-live": "polite" });
    fill(area, h("div", { class: "progress" }, bar, text), res);
    for (;;) {
      const c = await api("GET", `/v1/campaigns/${encodeURIComponent(id)}`);
      const p = c.progress || {};
      bar.max = Math.max(1, p.total || 0);
      bar.value = p.done || 0;
      text.textContent = `${fmt.int(p.done)} of ${fmt.int(p.total)} customers`;
      if (c.state !== "running") {
        res.dataset.state = c.state;
        add(res, h("h3", { text: c.state === "done" ? "Send finished" : "Send failed" }),
          c.error ? h("p", { class: "error", role: "alert", text: c.error }) : null,
          c.summary ? countsChart(c.summary, "What happened to each customer of the segment.") : null);
        return c;
      }
      if (!area.isConnected) return c; // the user left the page; the send goes on server-side
      await new Promise((r) => setTimeout(r, 400));
    }
  }

  async function send(body, area, buttons) {
    buttons.forEach((b) => (b.disabled = true));
    try {
      const r = await api("POST", "/v1/campaigns", body);
      tribe.say(`Campaign ${r.id} started${body.live ? " (live)" : " (sandbox)"}.`, "ok");
      await follow(r.id, area);
    } catch (e) {
      tribe.sayError(e);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  function liveBox(segId, channel, area, sandboxBtn) {
    const name = (tribe.segment(segId) || {}).name || "";
    const check = h("input", { type: "checkbox", id: "live-ok" });
    const confirm = h("input", { id: "live-confirm", autocomplete: "off", disabled: true });
    const go = h("button", { type: "button", class: "danger", disabled: true, text: "Send live" });
    const update = () => {
      confirm.disabled = !check.checked;
      go.disabled = !(check.checked && confirm.value === name);
    };
    check.addEventListener("change", update);
    confirm.addEventListener("input", update);
    go.addEventListener("click", () => send({ segment_id: segId, channel, live: true, confirm: confirm.value }, area, [go, sandboxBtn]));
    return h("fieldset", { class: "live" }, h("legend", { text: "Live send" }),
      h("label", null, check, " I want to send real messages to real customers"),
      h("div", { class: "field" }, h("label", { for: "live-confirm" }, "Type the segment name to confirm: ", h("strong", { text: name })), confirm),
      go);
  }

  async function preview(segId, channel, out) {
    fill(out, h("p", { class: "muted", text: "Rendering messages…" }));
    const r = await api("POST", "/v1/campaigns:preview", { segment_id: segId, channel, customers: 3 });
    const area = h("div", { class: "sendarea" });
    // the server sends to its --mail-endpoint in sandbox mode, or without one makes a dry run
    const mode = r.mode || "sandbox";
    const sandbox = h("button", { type: "button", class: "primary", text: `Send (${mode})` });
    sandbox.addEventListener("click", () => send({ segment_id: segId, channel, live: false }, area, [sandbox]));
    const counts = r.counts || {};
    fill(out,
      h("h2", { text: `Preview: ${segLabel(segId)} by ${channel === "sms" ? "SMS" : "e-mail"}` }),
      r.campaign ? h("p", { class: "muted", text: `Campaign: ${r.campaign}` }) : null,
      h("div", { class: "messages" }, (r.messages || []).map((m) => messageCard(m, channel))),
      (r.messages || []).length ? null : h("p", { class: "muted", text: "No customer of this segment can be reached on this channel." }),
      h("h3", { text: `Who gets it: ${fmt.int(counts.would_send)} of ${fmt.int(counts.customers)} customers` }),
      countsChart(counts, "After the opt-outs, the suppression list and the frequency cap."),
      h("div", { class: "actions" }, sandbox,
        h("span", { class: "muted small", text: mode === "sandbox"
          ? " The sandbox runs the real send with the provider's sandbox mode: nothing reaches anyone."
          : " The server has no mail endpoint: the send is only written to its outbox." })),
      r.live_allowed ? liveBox(segId, channel, area, sandbox) : null,
      area);
  }

  tribe.views.campaign = async (box, args) => {
    let segId = args[0] || st.segments[0].id;
    const out = h("div", { class: "card wide preview", "aria-live": "polite" });
    const channel = () => box.querySelector("input[name=channel]:checked").value;
    const btn = h("button", { type: "submit", class: "primary", text: "Preview messages", disabled: !tribe.canWrite() });
    const planned = h("p", { class: "small muted" });
    const showPlan = () => {
      const plan = (tribe.segment(segId) || {}).campaign;
      planned.textContent = plan ? `Planned for this segment: ${plan.name} by ${plan.channel}.` : "";
    };
    showPlan();
    const form = h("form", { class: "campaignform" },
      tribe.segmentSelect("camp-seg", "Segment", String(segId), (v) => {
        segId = v;
        showPlan();
        fill(out);
      }),
      h("fieldset", { class: "radios" }, h("legend", { text: "Channel" }),
        h("label", null, h("input", { type: "radio", name: "channel", value: "email", checked: true }), " E-mail"),
        h("label", null, h("input", { type: "radio", name: "channel", value: "sms" }), " SMS")),
      btn);
    form.addEventListener("change", (ev) => {
      if (ev.target.name === "channel") fill(out);
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      btn.disabled = true;
      try {
        await preview(segId, channel(), out);
      } catch (e) {
        fill(out);
        tribe.sayError(e);
      } finally {
        btn.disabled = false;
      }
    });
    add(box, h("h1", { text: "Campaign" }),
      card(null, "", form, planned,
        tribe.canWrite() ? null : h("p", { class: "muted", text: "Previewing and sending need a write token." })),
      out);
  };
})();
