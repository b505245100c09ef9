// The dashboard in a real headless Chromium against a real `tribe serve` (tests/e2e/test_dashboard.sh
// starts the server, the test LLM server and the test mail server, then runs this):
//   node dashboard.test.mjs --url http://127.0.0.1:PORT --write TOKEN --read TOKEN --shots DIR
// Every figure it checks on the page is compared with the API's own answer (fetched with a bearer
// token). Any console error, failed request or unexpected HTTP error fails the test. Prints one
// "ok - " or "FAIL - " line per check (the e2e script counts them); exits 1 on any failure.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: opt } = parseArgs({ options: {
  url: { type: "string" }, write: { type: "string" }, read: { type: "string" }, shots: { type: "string" },
  chromium: { type: "string", default: "/usr/bin/chromium" }, skip: { type: "string", default: "" } } });
const BASE = opt.url.replace(/\/$/, "");
const SKIP = new Set(opt.skip.split(",").filter(Boolean)); // steps the caller knows the server lacks
mkdirSync(opt.shots, { recursive: true });

let fails = 0;
const ok = (what) => console.log(`ok - ${what}`);
const fail = (what, why) => { fails++; console.log(`FAIL - ${what}${why ? `: ${why}` : ""}`); };
const check = (what, cond, why) => (cond ? ok(what) : fail(what, why));
const skip = (what, why) => console.log(`ok - ${what} # SKIP ${why}`);

// the API itself, with a bearer token (the test's source of truth)
async function api(path, init = {}) {
  const res = await fetch(BASE + path, { ...init, headers: { Authorization: `Bearer ${opt.write}`, "Content-Type": "application/json", ...(init.headers || {}) } });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

// Playwright gives every launch a fresh --user-data-dir of its own (a new temporary profile,
// removed on close) and refuses the flag in args.
const browser = await chromium.launch({
  executablePath: opt.chromium, headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});

// watch(page): collects console errors, failed requests and HTTP errors. Before sign-in the
// page's session check answers 401 (and the bad-token attempt too): those are expected.
let limited = 0; // 429s answered to the page (and retried by it)
let current = null; // the page being driven, and what its watcher has seen: for a failure's report
function watch(page, name) {
  const bad = [];
  current = { page, bad };
  page.signedIn = false;
  // a server without the persona versions yet answers 404 to the page's list (skipped by name)
  // A 429 (the server's rate limits; the test clicks faster than people do) is waited out and
  // repeated by the page: counted and reported, not a failure; what the request was for is checked.
  const expected = (url, status) => {
    const path = new URL(url).pathname;
    if (status === 429) return ++limited;
    return (status === 401 && !page.signedIn && path === "/v1/session") ||
           ((status === 400 || status === 404) && page.lookingUpUnknown && path.startsWith("/v1/customers/")) ||
           (status === 404 && SKIP.has("refine") && path.endsWith("/persona/versions"));
  };
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const loc = m.location() || {};
    const code = /status of (\d+)/.exec(m.text());
    if (code && loc.url && (code[1] === "429" || expected(loc.url, Number(code[1])))) return; // counted at the response
    bad.push(`console: ${m.text()} (${loc.url || ""})`);
  });
  page.on("pageerror", (e) => bad.push(`page error: ${e.message}`));
  page.on("requestfailed", (r) => bad.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`));
  page.on("response", (r) => {
    if (r.status() >= 400 && !expected(r.url(), r.status())) bad.push(`HTTP ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return () => {
    check(`${name}: no console error, failed request or HTTP error`, bad.length === 0, bad.join("; "));
    bad.length = 0;
  };
}

// Signs in through the form. The server throttles sign-ins after a refused one ("Too many
// requests ... retry in 1 s", shown on the form): then waits and tries again, as a person would.
async function signIn(page, token) {
  await page.goto(BASE + "/");
  await page.locator("#signin").waitFor({ state: "visible" });
  for (let attempt = 0; attempt < 5; attempt++) {
    await page.fill("#token", token);
    await page.click("#signin button[type=submit]");
    await page.locator("#nav:visible, #signin-error:not(:empty)").first().waitFor();
    if (await page.locator("#nav").isVisible()) break;
    const said = await text(page, "#signin-error");
    if (!/too many/i.test(said)) throw new Error(`sign-in refused: ${said}`);
    await page.waitForTimeout(1100);
  }
  await page.locator("#nav").waitFor({ state: "visible" });
  page.signedIn = true; // from here on a 401 or 429 is a failure
}

const shot = (page, name) => page.screenshot({ path: join(opt.shots, `${name}.png`), fullPage: true });
const text = (page, sel) => page.locator(sel).first().textContent();

async function overview(page) {
  const segs = (await api("/v1/segments")).json;
  const cur = (await api("/v1/runs/current")).json;
  await page.locator(".segbars .seg-bar").first().waitFor();
  check("overview: one segment bar per segment (K from the API)", (await page.locator(".segbars .seg-bar").count()) === segs.k,
        `${await page.locator(".segbars .seg-bar").count()} bars, K=${segs.k}`);
  const first = segs.segments[0];
  const label = await page.locator(`.segbars .seg-bar[data-key="${first.id}"] .lab`).textContent();
  check("overview: the bars are named as the API names the segments", label.includes(first.name), label);
  const rows = cur.k_choice?.rows?.length || 0;
  if (rows) {
    const dots = await page.locator(".kchoice figure.line").first().locator("circle").count();
    check("overview: the K chart has one point per K swept", dots === rows, `${dots} points, ${rows} rows`);
    check("overview: the chosen K is marked", (await page.locator(".kchoice circle.chosen").count()) >= 1);
  }
  const pts = cur.projection?.points?.length || 0;
  check("overview: the map draws every projected customer", (await page.locator(".scatter circle").count()) === pts, `want ${pts}`);
  if (cur.drift) check("overview: one drift bar per feature", (await page.locator(".drift .row").count()) === cur.drift.length);
  await shot(page, "overview-laptop");
  return segs;
}

async function segmentPage(page, segs) {
  const g = segs.segments[0];
  await page.click(`.segbars .seg-bar[data-key="${g.id}"]`);
  await page.waitForURL(new RegExp(`#/segment/${g.id}$`));
  const d = (await api(`/v1/segments/${g.id}`)).json;
  await page.locator(".profile .feat").first().waitFor();
  check("segment: one histogram card per profiled feature", (await page.locator(".profile .feat").count()) === d.profile.length);
  check("segment: the persona card shows the persona's name", (await text(page, ".personacard .persona h3")) === d.persona.name);
  const planText = await text(page, ".plan");
  check("segment: the campaign plan row is shown", planText.includes(d.plan.campaign), planText);
  check("segment: drivers drawn", (await page.locator(".drivers .row").count()) === Math.min(8, d.drivers?.length || 0));
  await page.locator(".custs tbody tr").first().waitFor();
  check("segment: the first customers are listed", (await page.locator(".custs tbody tr").count()) >= 1);
  await shot(page, "segment-laptop");
  return d;
}

async function compare(page, segs) {
  const [a, b] = [segs.segments[0], segs.segments[segs.segments.length - 1]];
  await page.click('#nav a[data-view="compare"]');
  await page.locator("#cmp-a").waitFor();
  await page.selectOption("#cmp-a", a.id);
  await page.waitForURL(new RegExp(`#/compare/${a.id}/`));
  await page.selectOption("#cmp-b", b.id);
  await page.waitForURL(new RegExp(`#/compare/${a.id}/${b.id}$`));
  await page.locator(".cmp tbody tr").first().waitFor();
  const da = (await api(`/v1/segments/${a.id}`)).json;
  check("compare: one row per feature", (await page.locator(".cmp tbody tr").count()) === da.profile.length);
  const heads = await page.locator(".cmphead h2").allTextContents();
  check("compare: both segments named", heads.length === 2 && heads[0].includes(a.name) && heads[1].includes(b.name), heads.join(" | "));
  if (a.id !== b.id) check("compare: differences highlighted", (await page.locator(".cmp tr.diff").count()) >= 1);
  const cliffs = await page.locator(".cmp tbody td.cliff").allTextContents();
  const wantCliff = da.profile.map((f) => {
    const v = f.cliffs_delta ? f.cliffs_delta[String(b.id)] : undefined;
    return typeof v === "number" ? `${v > 0 ? "+" : ""}${v.toFixed(2)} (` : "–";
  });
  if (a.id !== b.id) check("compare: each feature's Cliff's delta is the API's, in words", cliffs.length === wantCliff.length &&
    cliffs.every((t, i) => t.startsWith(wantCliff[i])) && wantCliff.some((w) => w !== "–"), cliffs.slice(0, 3).join(" | "));
  await shot(page, "compare-laptop");
}

async function customer(page, segs) {
  const g = segs.segments[segs.segments.length - 1];
  const cid = (await api(`/v1/segments/${g.id}/customers?limit=1`)).json.customers[0].customer_id;
  const c = (await api(`/v1/customers/${cid}`)).json;
  // by keyboard only: from the top of the page, Tab past the skip link and three views to
  // "Customer", Enter, Tab into the id box, type, Enter
  await page.goto(BASE + "/");
  await page.locator(".segbars .seg-bar").first().waitFor();
  for (let i = 0; i < 5; i++) await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement.textContent);
  check("keyboard: the fifth Tab stop is the Customer view", focused === "Customer", focused);
  await page.keyboard.press("Enter");
  await page.waitForURL(/#\/customer$/);
  await page.locator("#cust-id").waitFor();
  await page.keyboard.press("Tab");
  check("keyboard: the first Tab stop of the view is the id box", await page.evaluate(() => document.activeElement.id === "cust-id"));
  await page.keyboard.type(cid);
  await page.keyboard.press("Enter");
  await page.locator(`.customer[data-customer="${cid}"]`).waitFor();
  const lead = await text(page, ".customer .lead");
  check("customer: the card names the customer's segment", lead.includes(c.segment.name), lead);
  if (c.membership) check("customer: one membership bar per segment listed", (await page.locator(".customer .hbars").first().locator(".row").count()) === c.membership.length);
  await shot(page, "customer-laptop");
  // an id that is also markup: the API's refusal is shown as text, nothing runs
  const hostile = `9${Date.now()}<img src=x onerror="window.__pwned=1">`;
  page.lookingUpUnknown = true;
  await page.fill("#cust-id", hostile);
  await page.press("#cust-id", "Enter");
  const err = page.locator(".view-customer .error");
  await err.waitFor();
  page.lookingUpUnknown = false;
  const said = await err.textContent();
  const pwned = await page.evaluate(() => window.__pwned === 1 || document.querySelector(".view-customer img") !== null);
  check("customer: a bad id is reported, and markup in it stays text", said.includes("<img") && !pwned, said);
}

async function refine(page, segs) {
  const g = segs.segments[0];
  if (SKIP.has("refine")) return skip("persona refine", "the server lacks POST /v1/segments/{id}/persona:refine");
  const before = (await api(`/v1/segments/${g.id}/persona/versions`)).json.versions.length;
  await page.goto(`${BASE}/#/segment/${g.id}`);
  await page.click("text=Refine this persona");
  await page.fill("#r-tone", "playful");
  await page.fill("#r-brand", "Never use exclamation marks. Say 'we', not 'the company'.");
  await page.fill("#r-emph", "free delivery");
  await page.click("form.refine button[type=submit]");
  await page.locator(".proposal .side .persona").nth(1).waitFor({ timeout: 30000 });
  check("refine: current and proposed shown side by side", (await page.locator(".proposal .side .persona").count()) === 2);
  await shot(page, "refine-laptop");
  await page.click("text=Save as new version");
  await page.locator(".status.ok").waitFor({ timeout: 15000 });
  const st = await text(page, "#status");
  const after = (await api(`/v1/segments/${g.id}/persona/versions`)).json.versions;
  check("refine: saving makes a new persona version (API)", after.length === before + 1, `${before} -> ${after.length}`);
  check("refine: the page says which version was saved", st.includes(`version ${after[after.length - 1].version}`), st);
}

async function campaign(page, segs) {
  if (SKIP.has("campaign")) return skip("campaign send", "the server lacks POST /v1/campaigns");
  const g = [...segs.segments].sort((x, y) => y.size - x.size)[0];
  await page.goto(`${BASE}/#/campaign/${g.id}`);
  await page.click("form.campaignform button[type=submit]");
  await page.locator(".message").first().waitFor({ timeout: 15000 });
  const n = await page.locator(".message").count();
  check("campaign: preview shows messages for a few real customers", n >= 1 && n <= 3, `${n}`);
  const body = await text(page, ".message pre.body");
  check("campaign: merge fields filled in the preview", !body.includes("{{"), body.slice(0, 120));
  await page.click("text=Send (sandbox)"); // the e2e script gives the server a mail endpoint
  const res = page.locator(".result[data-state]");
  await res.waitFor({ timeout: 60000 });
  check("campaign: the send finished", (await res.getAttribute("data-state")) === "done", await res.textContent());
  const sent = await res.locator('li[data-key="sent"] strong').textContent().catch(() => null);
  check("campaign: the per-reason summary is shown", sent !== null, "no 'sent' count");
  await shot(page, "campaign-laptop");
  if (!SKIP.has("live")) await liveSend(page, g);
  return sent === null ? null : Number(sent.replace(/,/g, ""));
}

// A live send (the server runs with --allow-live): the button stays disabled until the box is
// ticked and the segment's name typed exactly; then the send runs as live (API).
async function liveSend(page, g) {
  const go = page.locator("fieldset.live button");
  check("live send: offered when the server allows it", (await go.count()) === 1);
  check("live send: disabled before confirming", await go.isDisabled());
  await page.check("#live-ok");
  await page.fill("#live-confirm", g.name.toUpperCase() === g.name ? g.name.toLowerCase() : g.name.toUpperCase());
  check("live send: disabled with a wrongly typed name", await go.isDisabled());
  await page.fill("#live-confirm", g.name);
  check("live send: enabled once ticked and the name typed", await go.isEnabled());
  await go.click();
  // the status line says so when the server accepted it, and the sandbox's result is gone by then
  await page.locator("#status", { hasText: "started (live)" }).waitFor({ timeout: 15000 });
  const res = page.locator(".result[data-state]");
  await res.waitFor({ timeout: 60000 });
  const said = await text(page, "#status");
  const id = /Campaign (\S+) started \(live\)/.exec(said);
  const c = id ? (await api(`/v1/campaigns/${id[1]}`)).json : {};
  check("live send: the server ran it as a live send", c.live === true && c.state === "done", `${said} ${JSON.stringify(c).slice(0, 200)}`);
}

async function phone(state) {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, storageState: state });
  const page = await ctx.newPage();
  const done = watch(page, "phone");
  page.signedIn = true;
  await page.goto(BASE + "/#/overview");
  await page.locator(".segbars .seg-bar").first().waitFor();
  const wide = await page.evaluate(() => document.documentElement.scrollWidth);
  check("phone: the overview fits 390 px (no sideways scrolling)", wide <= 390, `${wide}px`);
  await shot(page, "overview-phone");
  await page.click(".segbars .seg-bar");
  await page.locator(".profile .feat").first().waitFor();
  const wide2 = await page.evaluate(() => document.documentElement.scrollWidth);
  check("phone: a segment's page fits 390 px", wide2 <= 390, `${wide2}px`);
  await shot(page, "segment-phone");
  done();
  await ctx.close();
}

async function readRole() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  const done = watch(page, "read role");
  await signIn(page, opt.read);
  await page.locator(".segbars .seg-bar").first().waitFor();
  await page.click(".segbars .seg-bar");
  await page.locator(".personacard .persona").waitFor();
  check("read role: no refine button", (await page.locator("text=Refine this persona").count()) === 0);
  await page.click('#nav a[data-view="campaign"]');
  check("read role: preview and send disabled", await page.locator("form.campaignform button[type=submit]").isDisabled());
  done();
  await ctx.close();
}

try {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 900 } });
  const page = await ctx.newPage();
  const done = watch(page, "laptop");
  // a wrong token is refused with a message, then the right one signs in
  await page.goto(BASE + "/");
  await page.locator("#signin").waitFor({ state: "visible" });
  await page.fill("#token", "not-a-token");
  await page.click("#signin button[type=submit]");
  await page.locator("#signin-error:not(:empty)").waitFor();
  ok("sign-in: a wrong token is refused with a message");
  await signIn(page, opt.write);
  const info = await text(page, "#runinfo");
  check("sign-in: the write role is shown", info.includes("can edit"), info);
  const segs = await overview(page);
  await segmentPage(page, segs);
  await compare(page, segs);
  await customer(page, segs);
  await refine(page, segs);
  const sent = await campaign(page, segs);
  if (sent !== null && sent !== undefined) console.log(`# sent ${sent}`);
  done();
  await phone(await ctx.storageState());
  if (opt.read) await readRole();
  await ctx.close();
} catch (e) {
  // what the page said last, what went wrong on the way, and how it looked, to see why
  let why = "";
  if (current) {
    const said = await current.page.locator("#status, #signin-error").allTextContents().catch(() => []);
    why = `\n# the page said: ${said.filter(Boolean).join(" | ") || "nothing"}; at ${current.page.url()}` +
          (current.bad.length ? `\n# seen: ${current.bad.join("; ")}` : "");
    await shot(current.page, "failure").catch(() => {});
  }
  fail("the browser test ran to its end", `${e.stack || e}${why}`);
} finally {
  if (limited) console.log(`# the server rate-limited ${limited} request(s); the page waited and retried`);
  await browser.close();
}
process.exit(fails ? 1 : 0);
