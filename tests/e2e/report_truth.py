#!/usr/bin/env python3
"""Reads report.html the way a marketer does and checks every figure on the page against results.h5.

usage: report_truth.py REPORT.html RESULTS.h5 CUSTOMERS.h5 [--demographics]

Standard library html.parser for the page, h5py for the files. Prints "ok - ..." / "FAIL - ..." lines
and exits 1 when any check fails (tests/e2e/test_report_truth.sh runs it).
"""
import json
import re
import sys
from html.parser import HTMLParser

import h5py
import numpy as np
from scipy import stats

VOID = {"meta", "br", "img", "input", "link", "hr", "rect", "circle", "line", "path", "polyline", "stop"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids = tag, dict(attrs), parent, []

    def text(self):
        return "".join(k if isinstance(k, str) else k.text() for k in self.kids)

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def find_all(self, pred):
        for k in self.kids:
            if isinstance(k, Node):
                if pred(k):
                    yield k
                yield from k.find_all(pred)

    def find(self, pred):
        return next(self.find_all(pred), None)


class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#root", [], None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.kids.append(data)


def tag_cls(tag, cls=None):
    return lambda n: n.tag == tag and (cls is None or cls in n.classes())


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


FAILS = 0


def check(ok, what, detail=""):
    global FAILS
    print(("ok - " if ok else "FAIL - ") + what + ("" if ok else ": " + str(detail)))
    FAILS += 0 if ok else 1


def section(root, sid):
    return root.find(lambda n: n.tag == "section" and n.attrs.get("id") == sid)


def table_rows(node):
    """Each <tr> of the first table under node as a list of its cells (th/td Nodes)."""
    t = node.find(tag_cls("table"))
    return [[c for c in tr.kids if isinstance(c, Node) and c.tag in ("td", "th")] for tr in t.find_all(tag_cls("tr"))]


def pct0(x):
    return "%.0f%%" % (100 * x)


def main():
    report, results, customers = sys.argv[1:4]
    demographics = "--demographics" in sys.argv[4:]
    tree = Tree()
    tree.feed(open(report, encoding="utf-8").read())
    root = tree.root
    r = h5py.File(results, "r")
    c = h5py.File(customers, "r")
    names = [x.decode() if isinstance(x, bytes) else str(x) for x in r["/segments"].attrs["names"]]
    k = len(names)
    label = r["/segments/label"][:]
    memb = r["/segments/membership"][:] if "membership" in r["/segments"] else None
    feats = [x.decode() if isinstance(x, bytes) else str(x) for x in c["/customers/features"].attrs["feature_names"]]
    model_feats = [x.decode() if isinstance(x, bytes) else str(x) for x in r["/model"].attrs["feature_names"]]
    med, overall_med = r["/segments/median"][:], r["/segments/overall_median"][:]
    run = r["/runs"][r.attrs["run_id"]].attrs
    fi = feats.index("frequency")

    # ---- the Model box: the features the model used ------------------------------------------
    quality = section(root, "quality")
    model = quality.find(lambda n: n.tag == "div" and "card" in n.classes() and
                         (n.find(tag_cls("h3")) or Node("", [], None)).text() == "Model")
    kv = {squash(row[0].text()): squash(row[1].text()) for row in table_rows(model)}
    check(kv.get("Features used") == str(len(model_feats)), "Model box: %d features used, as /model feature_names"
          % len(model_feats), kv)

    # ---- key figures: silhouette band and interval --------------------------------------------
    sil, ci = float(run["silhouette"]), float(run["silhouette_ci95"])
    kpi = root.find(lambda n: n.tag == "div" and "kpi" in n.classes() and "Segment separation" in n.text())
    band = ("strong structure" if sil > 0.70 else "reasonable structure" if sil > 0.50 else
            "weak structure" if sil > 0.25 else "no substantial structure")
    words = squash(kpi.text())
    check(band in words and "Kaufman" in words, "silhouette %.2f is called '%s' (Kaufman & Rousseeuw)" % (sil, band),
          words)
    check(("±" in words) == (ci >= 0.005) and "± 0.00" not in words,
          "silhouette interval shown only when it rounds above 0.00 (half-width %.4f)" % ci, words)

    # ---- crispness: sure members of their own segment, recomputed from the memberships ----------
    if memb is not None:
        rows = table_rows(section(root, "crispness"))[1:]
        for ci_, row in enumerate(rows):
            mine = label == ci_
            want = pct0((memb[mine, ci_] > 0.9).mean())
            got = squash(row[2].text())
            check(squash(row[0].text()) == names[ci_] and got == want,
                  "%s: sure members %s = share with membership of its own segment > 0.9" % (names[ci_], want), got)

    # ---- profiles: days between orders and the shading of recency --------------------------------
    prof = table_rows(section(root, "profiles"))
    byname = {squash(row[0].text()): row for row in prof[1:]}
    gap = byname.get("Days between orders")
    if gap is not None:
        for s in range(k):
            cell, once = gap[1 + s], med[s, fi] < 2
            txt = squash(cell.text())
            if once:
                check(txt.startswith("n/a") and not re.match(r"^0\b", txt),
                      "%s (median %g orders): days between orders is n/a" % (names[s], med[s, fi]), txt)
            else:
                check(not txt.startswith("n/a"), "%s: days between orders shown (median %g orders)"
                      % (names[s], med[s, fi]), txt)
    ri = feats.index("recency_days")
    for s in range(k):
        cell = byname["Days since last order"][1 + s]
        ratio = med[s, ri] / overall_med[ri] if overall_med[ri] > 0 else float("nan")
        cls = " ".join(cell.classes())
        want = "lo" if ratio >= 1.33 else "hi" if ratio <= 0.75 else ""
        check((want == "" and not re.search(r"\b(hi|lo)[12]\b", cls)) or cls.startswith(want),
              "%s: recency %.2fx the base is shaded %s" % (names[s], ratio, want or "plain"), cls)

    # ---- segments differ?: Kruskal-Wallis per feature against scipy on the run's customers -------
    kw_feats = [x.decode() if isinstance(x, bytes) else str(x) for x in r["/segments/kw_delta"].attrs["feature_names"]]
    cid, rid = c["/customers/id"][:], r["/segments/id"][:]
    at = {v: i for i, v in enumerate(cid)}
    rows_of = np.array([at[v] for v in rid])
    x_all = c["/customers/features"][:]
    for j, f in enumerate(kw_feats):
        x = x_all[rows_of, feats.index(f)].astype(np.float64)
        groups = [x[(label == s) & ~np.isnan(x)] for s in range(k)]
        h_ref = stats.kruskal(*[g for g in groups if len(g)]).statistic
        h, e, ph = (float(r["/segments/" + n][j]) for n in ("kw_h", "kw_eps2", "kw_p_holm"))
        check(abs(h - h_ref) <= 1e-9 * abs(h_ref), "%s: Kruskal-Wallis H %.6g as scipy's %.6g" % (f, h, h_ref))
        cell = squash(prof[1 + j][k + 2].text())
        words = ("negligible" if e < 0.01 else "small" if e < 0.06 else "medium" if e < 0.14 else "large")
        check(cell.startswith("%.3f %s" % (e, words)), "%s: segments differ? cell reads epsilon^2 %.3f %s"
              % (f, e, words), cell)
        check(("< 1e-300" in cell) if ph < 1e-300 else ("p %.2g" % ph) in cell, "%s: Holm p %.2g shown" % (f, ph), cell)
        check(("†" in cell) == (f in model_feats), "%s: marked as a model feature (†) exactly when it is one" % f, cell)

    # ---- the ledger: dates as dates, the cutoff, no rows for sources not given -------------------
    led_card = quality.find(lambda n: n.tag == "div" and "card" in n.classes() and
                            (n.find(tag_cls("h3")) or Node("", [], None)).text() == "Data-quality ledger")
    led = {squash(row[0].text()): squash(row[1].text()) for row in table_rows(led_card)}
    ledger = json.loads(c["/customers"].attrs["ledger"])
    check(not any(key.endswith(" day") for key in led), "ledger shows no day numbers", list(led))
    check(led.get("First invoice date") == ledger["first_invoice_date"] and
          led.get("Last invoice date") == ledger["last_invoice_date"], "ledger dates are the customers' dates", led)
    cut = ledger.get("cutoff") or ""
    check(led.get("Cutoff") == (cut if cut else "none (latest data)"), "ledger cutoff is '%s'"
          % (cut or "none (latest data)"), led.get("Cutoff"))
    for src, key in (("web", "Web sessions"), ("demographics", "Demographics")):
        given = bool(ledger["has_" + src])
        rows = [x for x in led if x.lower().startswith(src + " ") and x != key]
        check(led.get(key) == ("given" if given else "not given") and (given or not rows),
              "ledger: %s %s%s" % (src, "given" if given else "not given", "" if given else ", no zero rows"),
              (led.get(key), rows))

    # ---- personas: illustrative demographics, evidence, wording -----------------------------------
    cards = list(section(root, "personas").find_all(tag_cls("article", "persona")))
    check(len(cards) == k, "a persona card per segment", len(cards))
    for card in cards:
        seg_line = squash(card.find(tag_cls("div", "seg")).text())
        s = next(i for i, n in enumerate(names) if seg_line.startswith(n + " ·"))
        meta = card.find(tag_cls("div", "meta"))
        marks = len(list(meta.find_all(tag_cls("span", "illus"))))
        check(marks == (0 if demographics else 2), "%s: %s" % (names[s], "demographics from the data, no marks"
              if demographics else "age band and occupation marked illustrative"), squash(meta.text()))
        bio = squash(card.find(tag_cls("p", "bio")).text())
        pos = 0
        for li in card.find(tag_cls("ul", "ev")).find_all(tag_cls("li")) if card.find(tag_cls("ul", "ev")) else []:
            written = squash(li.find(tag_cls("b")).text())
            code = li.find(tag_cls("code"))
            check(code is not None, "%s: evidence '%s' cites a figure" % (names[s], written), squash(li.text()))
            if code is None:
                continue
            fid, val = squash(code.text()).split(" = ")
            want = figure(fid, s, r, c, feats, label)
            check(want is not None and abs(float(val) - want) <= 1e-6 * max(1.0, abs(want)),
                  "%s: evidence %s = %s equals results.h5's %s" % (names[s], fid, val, want), val)
            num = float(re.sub(r"[^0-9.\-]", "", written))
            dec = len(written.split(".")[1].rstrip("%")) if "." in written else 0
            shown = want * 100 if ("%" in written and want is not None) else want
            check(shown is not None and round(shown, dec) == round(num, dec) or abs(shown - num) <= 0.5 * 10 ** -dec
                  + 1e-9, "%s: '%s' is %s at the printed precision" % (names[s], written, fid), shown)
            if "in bio" not in li.text():
                continue
            at = bio.find(written, pos)
            if at < 0:
                continue
            pos = at + len(written)
            after = bio[pos:]
            upto = re.split(r"[0-9]|\. ", after, maxsplit=1)[0]
            if re.match(r"\s*orders?\b", after):
                check(fid.split(".")[-1] == "frequency", "%s: '%s orders' cites an order count" % (names[s], written),
                      fid)
            if re.search(r"customer base as a whole|across all customers", upto):
                check(fid.startswith("base."), "%s: '%s%s' cites the whole base" % (names[s], written, upto), fid)
        once = med[s, fi] < 2
        mail = squash(card.find(tag_cls("div", "eb")).text()) + " " + squash(card.find(tag_cls("p", "tagline")).text())
        if once:
            bad = [w for w in ("recent orders", "again and again", "time after time", "one of our regulars",
                               "products you used to love") if w in mail]
            check(not bad, "%s (median %g orders): e-mail and tagline claim no repeat orders"
                  % (names[s], med[s, fi]), bad)

    # ---- at a glance: text, not a scaled picture --------------------------------------------------
    glance = section(root, "glance")
    check(glance.find(tag_cls("svg")) is None and len(list(glance.find_all(tag_cls("div", "brow")))) == k,
          "glance chart is HTML text (a bar row per segment), readable at any width")
    sys.exit(1 if FAILS else 0)


def figure(fid, s, r, c, feats, label):
    """The value results.h5 holds for a personas.json figure id of segment s."""
    base = fid.startswith("base.")
    key = fid[5:] if base else fid
    if key == "size":
        return float(len(label)) if base else float((label == s).sum())
    if key in ("share", "revenue_share"):
        return float(r["/segments/" + key][s])
    m = re.match(r"(median|mean|q1|q3)\.(.+)$", key)
    if m and m.group(2) in feats:
        j = feats.index(m.group(2))
        return float(r["/segments/overall_" + m.group(1)][j] if base else r["/segments/" + m.group(1)][s, j])
    m = re.match(r"offer\.(\d+)\.(lift|share|base_share|customers)$", key)
    if m and not base:  # what the segment buys more than the base, from customers.h5's items (docs/offers.md)
        item = int(r["/segments/offers/item"][s, int(m.group(1))])
        cnt, items = c["/customers/items/count"][:], c["/customers/items/item"][:]
        rows = np.repeat(np.arange(len(cnt)), cnt)[items == item]
        n_in, n_all = float((label[rows] == s).sum()), float(len(rows))
        share, base_share = n_in / float((label == s).sum()), n_all / float(len(label))
        return {"lift": share / base_share, "share": share, "base_share": base_share, "customers": n_in}[m.group(2)]
    m = re.match(r"mix\.([^.]+)\.(.+)$", key)
    if m and m.group(1) in c["/customers"]:
        codes = c["/customers/" + m.group(1)][:]
        levels = [x.decode() if isinstance(x, bytes) else str(x) for x in c["/customers/" + m.group(1)].attrs["levels"]]
        if m.group(2) not in levels:
            return None
        rows = codes if base else codes[label == s]
        return float((rows == levels.index(m.group(2))).sum()) / max(len(rows), 1)
    return None


if __name__ == "__main__":
    main()
