// tribe dashboard: the core (DOM helpers, number formats, the API client, the session, the
// router). Views live in views.js (overview, segment, compare) and actions.js (customer
// look-up, campaign); charts.js draws the SVG pictures. Every piece of data reaches the page
// through textContent or an attribute value, never through innerHTML: ids, names, persona text
// and warnings may hold hostile strings.
"use strict";

const tribe = (window.tribe = { views: {}, charts: {}, state: {} });

(function () {
  const SVG_NS = "http://www.w3.org/2000/svg";

  // Builds an element. attrs: "class", "text" (textContent), "on<event>" (a listener), a
  // boolean (set or not) or anything else as an attribute. Children: nodes or strings (text
  // nodes), null and false are skipped, arrays are flattened.
  function build(el, attrs, children) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "text") el.textContent = String(v);
      else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
    const add = (c) => {
      if (c === null || c === undefined || c === false) return;
      if (Array.isArray(c)) c.forEach(add);
      else el.appendChild(c instanceof Node ? c : document.createTextNode(String(c)));
    };
    children.forEach(add);
    return el;
  }
  // add(el, ...children) appends as build does (skipping null and false, which the DOM's own
  // append would print as text); fill(el, ...children) replaces el's children.
  const add = (el, ...children) => build(el, null, children);
  const fill = (el, ...children) => (el.replaceChildren(), build(el, null, children));
  const h = (tag, attrs, ...children) => build(document.createElement(tag), attrs, children);
  const s = (tag, attrs, ...children) => build(document.createElementNS(SVG_NS, tag), attrs, children);

  // ---- numbers for people ------------------------------------------------------------------
  const nf0 = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 0 });
  const nf1 = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 1 });
  const nf2 = new Intl.NumberFormat("en-GB", { maximumFractionDigits: 2 });
  const pf = new Intl.NumberFormat("en-GB", { style: "percent", maximumFractionDigits: 1 });
  const missing = (x) => x === null || x === undefined || (typeof x === "number" && !isFinite(x));
  const fmt = {
    int: (x) => (missing(x) ? "–" : nf0.format(x)),
    pct: (x) => (missing(x) ? "–" : pf.format(x)),
    // magnitudes: whole numbers above 100, two decimals below 10, three significant below 1
    num: (x) => {
      if (missing(x)) return "–";
      const a = Math.abs(x);
      if (a >= 100) return nf0.format(x);
      if (a >= 10) return nf1.format(x);
      if (a >= 1 || a === 0) return nf2.format(x);
      return x.toPrecision(2);
    },
    // money in whole units of the run's currency (the API's "currency"), as the report writes it: "$1,234", "CHF 1,234"
    money: (x) => {
      if (missing(x)) return "–";
      const sym = (tribe.state.currency && tribe.state.currency.symbol) || "";
      return (Math.round(x) < 0 ? "-" : "") + sym + (/[A-Za-z]$/.test(sym) ? " " : "") + nf0.format(Math.abs(x));
    },
    date: (iso) => {
      if (!iso) return "–";
      const d = new Date(iso);
      return isNaN(d) ? String(iso) : d.toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
    },
  };
  // feature names as people say them
  const FEATURES = {
    recency_days: "Days since last order", frequency: "Orders", monetary: "Net spend (after returns)",
    avg_order_value: "Average order value", tenure_days: "Days since first order",
    mean_days_between: "Days between orders", distinct_products: "Distinct products",
    sessions: "Web sessions", pages_per_session: "Pages per session",
    minutes_on_site: "Minutes on site", age: "Age",
  };
  const feature = (f) => FEATURES[f] || String(f).replace(/_/g, " ").replace(/^./, (c) => c.toUpperCase());

  // ---- the API -----------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, title, detail) {
      super(detail ? `${title}: ${detail}` : title);
      this.status = status;
      this.title = title;
      this.detail = detail;
    }
  }
  // api(method, path, body): the parsed JSON answer; a problem+json answer becomes an ApiError
  // with its title and detail. POSTs carry the session's CSRF token. A 429 (the server's rate
  // limits, docs/api.md) with a short Retry-After is waited out and the request made again, a
  // few times: a refused request did nothing, so even a write is safe to repeat.
  async function api(method, path, body) {
    for (let attempt = 0; ; attempt++) {
      try {
        return await request(method, path, body);
      } catch (e) {
        if (!(e.status === 429 && e.retryAfter <= 5 && attempt < 3)) throw e;
        say(`The server is busy: trying again in ${e.retryAfter} s…`, "info");
        await new Promise((r) => setTimeout(r, e.retryAfter * 1000));
        say("");
      }
    }
  }
  async function request(method, path, body) {
    const opt = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      opt.headers["Content-Type"] = "application/json";
      opt.body = JSON.stringify(body);
    }
    if (method !== "GET" && tribe.state.csrf) opt.headers["X-CSRF-Token"] = tribe.state.csrf;
    let res;
    try {
      res = await fetch(path, opt);
    } catch (e) {
      throw new ApiError(0, "The server cannot be reached", String(e.message || e));
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      json = null;
    }
    if (!res.ok) {
      const p = json || {};
      if (res.status === 401 && path !== "/v1/session") showSignIn("Your session ended: sign in again.");
      const e = new ApiError(res.status, p.title || `HTTP ${res.status}`, p.detail || (json ? "" : text.slice(0, 200)));
      e.retryAfter = Number(res.headers.get("Retry-After")) || 1;
      throw e;
    }
    return json;
  }

  // ---- status line and loading -------------------------------------------------------------
  const $ = (id) => document.getElementById(id);
  let statusTimer = 0;
  // say(message, kind): the status line ("error" stays until the next message, "ok" fades).
  function say(message, kind) {
    const st = $("status");
    st.textContent = message;
    st.className = "status " + (kind || "info");
    st.hidden = !message;
    clearTimeout(statusTimer);
    if (kind === "ok") statusTimer = setTimeout(() => (st.hidden = true), 5000);
  }
  const sayError = (e) => say(e instanceof ApiError ? e.message : "Something went wrong: " + (e.message || e), "error");

  // ---- segments: colours and lookups ---------------------------------------------------------
  // Okabe-Ito, then a few darker tones: distinguishable with the common colour-vision deficiencies.
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#8C6D1F",
                   "#5E3C99", "#1B7837", "#B2182B", "#4D4D4D", "#F0E442"];
  function colour(id) {
    const list = tribe.state.segments || [];
    const i = list.findIndex((x) => x.id === String(id));
    return PALETTE[(i < 0 ? 0 : i) % PALETTE.length];
  }
  const segment = (id) => (tribe.state.segments || []).find((x) => x.id === String(id));
  const segLabel = (id) => {
    const g = segment(id);
    return g ? `#${g.id} ${g.name}` : `#${id}`;
  };
  // a select of every segment (value: id)
  function segmentSelect(id, label, selected, onchange) {
    const sel = h("select", { id, onchange: () => onchange(sel.value) },
      (tribe.state.segments || []).map((g) => h("option", { value: g.id, selected: g.id === selected, text: segLabel(g.id) })));
    return h("div", { class: "field" }, h("label", { for: id, text: label }), sel);
  }
  // a small coloured square before a segment's name
  const swatch = (id) => s("svg", { class: "swatch", width: 12, height: 12, "aria-hidden": "true" },
    s("rect", { width: 12, height: 12, rx: 2, fill: colour(id) }));

  // ---- session -----------------------------------------------------------------------------
  function showSignIn(message) {
    tribe.state.role = null;
    $("nav").hidden = true;
    $("content").replaceChildren();
    $("loading").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("token").focus();
  }
  async function signIn(ev) {
    ev.preventDefault();
    const token = $("token").value.trim();
    $("signin-error").textContent = "";
    try {
      const r = await api("POST", "/v1/session", { token });
      $("token").value = "";
      await started(r);
    } catch (e) {
      $("signin-error").textContent = e.status === 401 ? "That token is not valid." : e.message;
    }
  }
  const canWrite = () => tribe.state.role === "write";

  // Loads the run and its segments, then shows the view the address names.
  async function started(sess) {
    tribe.state.role = sess.role;
    tribe.state.csrf = sess.csrf;
    $("signin").hidden = true;
    $("loading").hidden = false;
    const [cur, segs] = await Promise.all([api("GET", "/v1/runs/current"), api("GET", "/v1/segments")]);
    tribe.state.current = cur;
    tribe.state.segments = segs.segments;
    tribe.state.currency = segs.currency || cur.currency || null;
    tribe.state.k = segs.k;
    tribe.state.cache = {};
    const run = cur.run || segs.run || {};
    $("runinfo").replaceChildren(
      h("span", { text: `Run ${run.id || "–"}` }), " · ", h("span", { text: fmt.date(run.created) }), " · ",
      h("span", { class: "role", title: "what this token may do", text: sess.role === "write" ? "can edit" : "read only" }));
    $("nav").hidden = false;
    $("loading").hidden = true;
    route();
  }

  // a segment's details, cached for the session (persona saves drop the entry)
  async function segmentDetail(id) {
    const c = tribe.state.cache;
    if (!c[id]) c[id] = api("GET", `/v1/segments/${encodeURIComponent(id)}`);
    try {
      return await c[id];
    } catch (e) {
      delete c[id];
      throw e;
    }
  }

  // ---- router: #/view/arg/arg ----------------------------------------------------------------
  let routeSeq = 0;
  async function route() {
    if (!tribe.state.role) return;
    const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
    const name = tribe.views[parts[0]] ? parts[0] : "overview";
    document.querySelectorAll("#nav a").forEach((a) => {
      if (a.dataset.view === name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
    const seq = ++routeSeq;
    const box = h("div", { class: "view view-" + name });
    $("loading").hidden = false;
    try {
      await tribe.views[name](box, parts.slice(1));
      if (seq !== routeSeq) return; // a later navigation won
      $("content").replaceChildren(box);
      if (parts[0]) $("view").focus({ preventScroll: true });
    } catch (e) {
      if (seq === routeSeq) sayError(e);
    } finally {
      if (seq === routeSeq) $("loading").hidden = true;
    }
  }
  const go = (hash) => {
    if (location.hash === hash) route();
    else location.hash = hash;
  };

  async function boot() {
    $("signin-form").addEventListener("submit", signIn);
    window.addEventListener("hashchange", route);
    let sess = null;
    try {
      sess = await api("GET", "/v1/session");
    } catch (e) {
      if (e.status !== 401) sayError(e);
      showSignIn();
      return;
    }
    try {
      await started(sess);
    } catch (e) {
      sayError(e);
    }
  }
  document.addEventListener("DOMContentLoaded", boot);

  Object.assign(tribe, { h, s, add, fill, fmt, feature, api, ApiError, say, sayError, colour, segment, segLabel,
                         segmentSelect, swatch, canWrite, segmentDetail, go, route, PALETTE });
})();
