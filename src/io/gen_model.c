/* The generator's customer model: planted segment archetypes, a small product
 * catalogue, and the rows one customer contributes to each file.
 *
 * Every draw for customer i comes from tribe_rng_u64(key_i, stream, n) with
 * key_i = tribe_hash2(seed, i) and n counting up from 0 within the stream, so
 * a customer's rows depend on (seed, i) alone. Separate streams for the plan,
 * the transaction lines, the web sessions and the demographics keep the
 * sources independent: turning web off does not change a single transaction.
 */
#include "gen_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- archetypes ---------------------------------------------------------
 * Days are counted back from end_date. The shares are for the full set of 6;
 * Promising and Need attention only appear with segments >= 7. Device order:
 * desktop, mobile, tablet, app. Occupation order: gen_occupation_names.
 * Subscription order: none, basic, premium. */
const gen_segdef gen_segdefs[TRIBE_GEN_MAX_SEGMENTS] = {
    {"Champions", 0.12, 6, 0.9, 0, 45, 450, 0.30, GEN_WINDOW - 1, 14.0, 2.6, 3.4, 0.10,
     0.02, 20, 9, 1.1, {0.25, 0.25, 0.05, 0.45}, 37, 9,
     {0.05, 0.35, 0.25, 0.10, 0.05, 0.12, 0.05, 0.03}, {0.10, 0.35, 0.55}},
    {"Loyal", 0.18, 25, 0.7, 0, 120, 360, 0.35, GEN_WINDOW - 1, 7.0, 2.2, 2.2, 0.08,
     0.06, 10, 7, 1.0, {0.40, 0.30, 0.10, 0.20}, 44, 10,
     {0.03, 0.30, 0.20, 0.07, 0.12, 0.10, 0.10, 0.08}, {0.25, 0.50, 0.25}},
    {"Big spenders", 0.08, 90, 0.5, 10, 365, 150, 1.0, GEN_WINDOW - 1, 2.0, 3.0, 22.0, 0.30,
     0.15, 5, 12, 1.6, {0.70, 0.15, 0.10, 0.05}, 48, 9,
     {0.01, 0.20, 0.25, 0.40, 0.05, 0.06, 0.02, 0.01}, {0.25, 0.35, 0.40}},
    {"New customers", 0.14, 12, 0.8, 0, 60, 6, 1.2, 90, 1.3, 2.0, 1.6, 0.08,
     0.10, 6, 6, 0.8, {0.20, 0.55, 0.08, 0.17}, 29, 7,
     {0.30, 0.25, 0.08, 0.04, 0.12, 0.13, 0.06, 0.02}, {0.60, 0.35, 0.05}},
    {"At risk", 0.20, 230, 0.35, 110, 550, 280, 0.40, GEN_WINDOW - 1, 6.0, 2.1, 2.2, 0.08,
     0.25, 4, 5, 0.9, {0.60, 0.25, 0.10, 0.05}, 51, 11,
     {0.02, 0.28, 0.18, 0.08, 0.14, 0.10, 0.10, 0.10}, {0.45, 0.45, 0.10}},
    {"Hibernating", 0.28, 450, 0.25, 200, GEN_WINDOW - 1, 40, 1.5, GEN_WINDOW - 1, 1.15, 1.6, 1.0,
     0.08, 0.60, 1.5, 3, 0.6, {0.55, 0.35, 0.10, 0.00}, 46, 15,
     {0.08, 0.20, 0.08, 0.04, 0.18, 0.10, 0.12, 0.20}, {0.82, 0.16, 0.02}},
    {"Promising", 0.10, 30, 0.6, 0, 120, 70, 0.6, GEN_WINDOW - 1, 2.8, 2.2, 2.0, 0.08,
     0.10, 8, 7, 0.9, {0.35, 0.40, 0.10, 0.15}, 35, 10,
     {0.10, 0.30, 0.15, 0.05, 0.12, 0.14, 0.09, 0.05}, {0.45, 0.45, 0.10}},
    {"Need attention", 0.10, 110, 0.35, 50, 300, 180, 0.5, GEN_WINDOW - 1, 3.5, 2.2, 1.8, 0.08,
     0.20, 5, 5, 0.9, {0.50, 0.30, 0.12, 0.08}, 45, 12,
     {0.04, 0.28, 0.15, 0.06, 0.14, 0.11, 0.11, 0.11}, {0.50, 0.40, 0.10}},
};

const char *const gen_device_names[GEN_NDEV] = {"desktop", "mobile", "tablet", "app"};
const char *const gen_occupation_names[GEN_NOCC] = {
    "student", "professional", "manager", "business owner",
    "skilled trade", "sales, marketing", "homemaker", "retired"};
const char *const gen_subscription_names[GEN_NSUB] = {"none", "basic", "premium"};

const gen_dirt gen_dirt_base = {
    .guest_invoice = 0.06, .cancellation = 0.03, .bad_quantity = 0.004, .zero_price = 0.006,
    .adjustment = 0.001, .duplicate = 0.008, .malformed = 0.002,
    .web_unmatched = 0.01, .web_malformed = 0.002,
    .demo_duplicate = 0.003, .demo_unmatched = 0.005, .demo_malformed = 0.002, .missing_age = 0.03,
};

/* ---- catalogue ----------------------------------------------------------
 * Online Retail best sellers with their usual price and pack quantity, plus a
 * few descriptions with commas and double quotes (the real data has both), so
 * readers meet quoted fields. Popularity falls off as 1 / (rank + 4). */
typedef struct {
    const char *code, *desc;
    int cents, pack;
} gen_product;

static const gen_product catalogue[GEN_NPROD + 1] = {
    {"85123A", "WHITE HANGING HEART T-LIGHT HOLDER", 295, 6},
    {"22423", "REGENCY CAKESTAND 3 TIER", 1275, 1},
    {"85099B", "JUMBO BAG RED RETROSPOT", 208, 10},
    {"84879", "ASSORTED COLOUR BIRD ORNAMENT", 169, 8},
    {"47566", "PARTY BUNTING", 495, 4},
    {"20725", "LUNCH BAG RED RETROSPOT", 165, 10},
    {"22720", "SET OF 3 CAKE TINS PANTRY DESIGN", 495, 3},
    {"20727", "LUNCH BAG  BLACK SKULL.", 165, 10},
    {"23203", "JUMBO BAG DOILEY PATTERNS", 208, 10},
    {"21212", "PACK OF 72 RETROSPOT CAKE CASES", 55, 24},
    {"22197", "SMALL POPCORN HOLDER", 85, 12},
    {"21864", "TRAY, BREAKFAST IN BED", 495, 2},
    {"23298", "SPOTTY BUNTING", 495, 3},
    {"22086", "PAPER CHAIN KIT 50'S CHRISTMAS", 295, 6},
    {"22469", "HEART OF WICKER SMALL", 165, 12},
    {"22457", "NATURAL SLATE HEART CHALKBOARD", 295, 6},
    {"21034", "REX CASH+CARRY JUMBO SHOPPER", 95, 1},
    {"90214A", "LETTER \"A\" BLING KEY RING", 29, 12},
    {"22727", "ALARM CLOCK BAKELIKE RED", 375, 4},
    {"22993", "SET OF 4 PANTRY JELLY MOULDS", 125, 12},
    {"22960", "JAM MAKING SET WITH JARS", 425, 6},
    {"82482", "WOODEN PICTURE FRAME WHITE FINISH", 255, 6},
    {"20956", "GARLAND, VINTAGE BELLS", 125, 12},
    {"22138", "BAKING SET 9 PIECE RETROSPOT", 495, 3},
    {"23084", "RABBIT NIGHT LIGHT", 208, 6},
    {"22178", "VICTORIAN GLASS HANGING T-LIGHT", 125, 12},
    {"82494L", "WOODEN FRAME ANTIQUE WHITE", 295, 6},
    {"22699", "ROSES REGENCY TEACUP AND SAUCER", 295, 6},
    {"22804", "RETRO \"TEA FOR ONE\"", 425, 2},
    {"20914", "SET/5 RED RETROSPOT LID GLASS BOWLS", 295, 6},
    {"23301", "GARDENERS KNEELING PAD KEEP CALM", 165, 12},
    {"21080", "SET/20 RED RETROSPOT PAPER NAPKINS", 85, 12},
    {"23355", "HOT WATER BOTTLE KEEP CALM", 495, 4},
    {"23049", "TUMBLER, NEW ENGLAND", 125, 6},
    {"21790", "VINTAGE SNAP CARDS", 85, 12},
    {"22629", "SPACEBOY LUNCH BOX", 195, 12},
    {"22112", "CHOCOLATE HOT WATER BOTTLE", 495, 3},
    {"21181", "PLEASE ONE PERSON METAL SIGN", 210, 12},
    {"85049E", "ACRYLIC JEWEL ICICLE, PINK", 165, 12},
    {"21754", "HOME BUILDING BLOCK WORD", 595, 3},
    {"21175", "GIN + TONIC DIET METAL SIGN", 255, 12},
    {"90069", "FLOWER GLASS GARLAND NECKL.36\"BLUE", 375, 1},
    {"21733", "RED HANGING HEART T-LIGHT HOLDER", 295, 6},
    {"22616", "PACK OF 12 LONDON TISSUES", 29, 24},
    {"21731", "RED TOADSTOOL LED NIGHT LIGHT", 165, 12},
    {"22745", "POPPY'S PLAYHOUSE BEDROOM", 210, 6},
    {"22752", "SET 7 BABUSHKA NESTING BOXES", 765, 2},
    {"15056N", "EDWARDIAN PARASOL NATURAL", 595, 3},
    {"POST", "POSTAGE", 1800, 1}, /* only on foreign invoices */
};
#define GEN_POST GEN_NPROD

/* Countries of customers outside the UK, weighted like the Online Retail
 * customer base (no commas in any name). */
static const char *const foreign_names[] = {
    "Germany", "France", "Spain", "Belgium", "Switzerland", "Portugal", "Italy", "Finland",
    "Austria", "Norway", "Netherlands", "Australia", "Denmark", "Channel Islands", "Cyprus",
    "Sweden", "Japan", "Poland", "USA", "Canada", "EIRE", "Greece", "Israel"};
static const double foreign_weights[] = {94, 87, 30, 25, 21, 19, 14, 12, 11, 10, 9, 9, 9, 9, 8,
                                         8, 8, 6, 4, 4, 3, 4, 4};
#define GEN_NFOREIGN ((int)(sizeof foreign_weights / sizeof foreign_weights[0]))

/* Shop hours 07..20 for invoices; web sessions through the day, evening peak. */
static const double invoice_hour_w[14] = {2, 6, 10, 13, 15, 15, 13, 10, 7, 4, 2, 1, 1, 1};
static const double web_hour_w[24] = {2, 1, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7,
                                      8, 7, 7, 7, 7, 8, 10, 12, 13, 12, 8, 4};


/* ---- end_date ------------------------------------------------------------
 * Stricter than tribe_parse_day on purpose: end_date is a job option, so it
 * must be exactly YYYY-MM-DD (no time, no M/D/YYYY) and a bad one is a USAGE
 * error, not bad input data. */
tribe_status gen_parse_date(const char *s, int64_t *day)
{
    int y, mo, d, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10 || s[n] != '\0' ||
        y < 1900 || mo < 1 || mo > 12 || d < 1 || d > 31)
        return tribe_fail(TRIBE_ERR_USAGE, "end_date '%s' is not a date YYYY-MM-DD", s ? s : "(null)");
    int64_t z = tribe_days_from_civil(y, mo, d);
    char back[11];
    tribe_format_day(z, back);
    if (strcmp(back, s) != 0) /* 2011-02-30 and friends */
        return tribe_fail(TRIBE_ERR_USAGE, "end_date '%s' is not a calendar day", s);
    *day = z;
    return TRIBE_OK;
}

/* CSV-escapes s into out (cap bytes): quoted when it holds a comma, quote or newline. */
static tribe_status csv_escape(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    int quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote && n < cap)
        out[n++] = '"';
    for (const char *c = s; *c; c++) {
        if (n + 2 >= cap)
            return tribe_fail(TRIBE_ERR_INTERNAL, "catalogue text too long: '%s'", s);
        if (*c == '"')
            out[n++] = '"';
        out[n++] = *c;
    }
    if (quote)
        out[n++] = '"';
    if (n >= cap)
        return tribe_fail(TRIBE_ERR_INTERNAL, "catalogue text too long: '%s'", s);
    out[n] = '\0';
    return TRIBE_OK;
}

static double clip01(double p) { return p < 0 ? 0 : p > 1 ? 1 : p; }

tribe_status gen_model_init(gen_model *m, const tribe_gen_cfg *cfg)
{
    tribe_status st = TRIBE_OK;
    memset(m, 0, sizeof *m);
    if (cfg->customers < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "gen: customers must be at least 1 (got %lld)",
                          (long long)cfg->customers);
    if (cfg->segments < 1 || cfg->segments > TRIBE_GEN_MAX_SEGMENTS)
        return tribe_fail(TRIBE_ERR_USAGE, "gen: segments must be 1..%d (got %d)",
                          TRIBE_GEN_MAX_SEGMENTS, cfg->segments);
    if (!(cfg->dirt >= 0 && cfg->dirt <= 100))
        return tribe_fail(TRIBE_ERR_USAGE, "gen: dirt must be a scale in [0, 100] (got %g)", cfg->dirt);
    TRIBE_TRY(gen_parse_date(cfg->end_date ? cfg->end_date : "2011-12-09", &m->end_day));
    m->seed = cfg->seed;
    m->nseg = cfg->segments;
    m->web = cfg->web != 0;
    m->demo = cfg->demographics != 0;
    m->reviews = cfg->reviews != 0;
    if (cfg->layout != TRIBE_GEN_RETAIL && cfg->layout != TRIBE_GEN_FINANCIAL)
        return tribe_fail(TRIBE_ERR_USAGE, "gen: unknown layout %d", cfg->layout);
    m->layout = cfg->layout;
    if (m->layout == TRIBE_GEN_FINANCIAL)
        m->web = 0; /* the card-payment export has no web file */

    double tot = 0, acc = 0;
    for (int s = 0; s < m->nseg; s++)
        tot += gen_segdefs[s].share;
    for (int s = 0; s < m->nseg; s++) {
        acc += gen_segdefs[s].share;
        m->seg_cdf[s] = acc / tot;
    }
    m->seg_cdf[m->nseg - 1] = 1.0;

    const double k = cfg->dirt;
    const gen_dirt *b = &gen_dirt_base;
    m->p = (gen_dirt){clip01(k * b->guest_invoice), clip01(k * b->cancellation),
                      clip01(k * b->bad_quantity), clip01(k * b->zero_price),
                      clip01(k * b->adjustment), clip01(k * b->duplicate),
                      clip01(k * b->malformed), clip01(k * b->web_unmatched),
                      clip01(k * b->web_malformed), clip01(k * b->demo_duplicate),
                      clip01(k * b->demo_unmatched), clip01(k * b->demo_malformed),
                      clip01(k * b->missing_age)};

    for (int d = 0; d < GEN_WINDOW; d++)
        tribe_format_day(m->end_day - d, m->date[d]);

    tot = acc = 0;
    for (int p = 0; p < GEN_NPROD; p++)
        tot += 1.0 / (p + 4);
    for (int p = 0; p < GEN_NPROD; p++) {
        acc += 1.0 / (p + 4);
        m->prod_cdf[p] = acc / tot;
    }
    m->prod_cdf[GEN_NPROD - 1] = 1.0;
    for (int p = 0; p <= GEN_NPROD; p++) {
        TRIBE_TRY(csv_escape(catalogue[p].desc, m->desc_csv[p], sizeof m->desc_csv[p]));
        m->desc_len[p] = (unsigned char)strlen(m->desc_csv[p]);
    }
    for (int o = 0; o < GEN_NOCC; o++)
        TRIBE_TRY(csv_escape(gen_occupation_names[o], m->occ_csv[o], sizeof m->occ_csv[o]));
cleanup:
    return st;
}

int64_t gen_customer_id(const gen_model *m, int64_t i)
{
    return 12346 + 3 * i + (int64_t)(tribe_rng_u64(m->seed, 0x1d, (uint64_t)i) & 1);
}


void gen_plan_customer(const gen_model *m, int64_t i, gen_plan *pl)
{
    grng r = grng_make(m, i, ST_PLAN);
    double u = g_unif(&r);
    int s = 0;
    while (s < m->nseg - 1 && u >= m->seg_cdf[s])
        s++;
    const gen_segdef *sd = &gen_segdefs[s];
    pl->seg = s;
    pl->country = g_bern(&r, sd->p_foreign) ? g_pick(&r, foreign_weights, GEN_NFOREIGN) : -1;

    int rec = (int)floor(sd->rec_median * exp(sd->rec_sigma * g_normal(&r)));
    rec = clampi(rec, sd->rec_min, sd->rec_max);
    rec = clampi(rec, 0, GEN_WINDOW - 1);
    int span = (int)lround(sd->span_median * exp(sd->span_sigma * g_normal(&r)));
    int tmax = sd->tenure_max < rec ? rec : sd->tenure_max;
    int ten = clampi(rec + clampi(span, 0, GEN_WINDOW), rec, tmax);
    ten = clampi(ten, rec, GEN_WINDOW - 1);

    double lam = (sd->invoices_mean - 1.0) * exp(0.45 * g_normal(&r) - 0.1);
    int n = 1 + g_poisson(&r, lam);
    if (n > GEN_MAX_INVOICES)
        n = GEN_MAX_INVOICES;
    pl->qscale = exp(0.35 * g_normal(&r));

    /* One invoice: the customer's first day is its last. Otherwise the first
     * and last days are fixed and the rest fall uniformly between. */
    if (n == 1)
        ten = rec;
    pl->recency = rec;
    pl->tenure = ten;
    pl->n_inv = n;
    pl->day[0] = (short)ten;
    if (n > 1)
        pl->day[n - 1] = (short)rec;
    for (int j = 1; j < n - 1; j++)
        pl->day[j] = (short)(rec + g_below(&r, ten - rec + 1));
    /* insertion sort, descending days-ago = ascending dates */
    for (int j = 2; j < n - 1; j++) {
        short v = pl->day[j];
        int k = j - 1;
        while (k >= 1 && pl->day[k] < v) {
            pl->day[k + 1] = pl->day[k];
            k--;
        }
        pl->day[k + 1] = v;
    }
    int numbers = n;
    for (int j = 0; j < n; j++) {
        pl->cancel[j] = (unsigned char)g_bern(&r, m->p.cancellation);
        numbers += pl->cancel[j];
    }
    pl->guest = g_bern(&r, m->p.guest_invoice);
    pl->adjust = g_bern(&r, m->p.adjustment);
    pl->malformed = g_bern(&r, m->p.malformed);
    pl->n_numbers = numbers + pl->guest + pl->adjust;
}

int64_t gen_invoice_count(const gen_model *m, int64_t i)
{
    gen_plan pl;
    gen_plan_customer(m, i, &pl);
    return pl.n_numbers;
}

static void put_country(tribe_sbuf *b, int country)
{
    puts0(b, country < 0 ? "United Kingdom" : foreign_names[country]);
}

/* Upper bounds used to reserve once per customer: no row is longer. */
#define TX_ROW_MAX 256
#define WEB_ROW_MAX 128
#define DEMO_ROW_MAX 160

/* One transaction row. inv_prefix is 0, 'C' or 'A'; id < 0 = missing. */
typedef struct {
    char prefix;
    int64_t inv;
    int prod;
    const char *code, *desc; /* override the catalogue (adjustments) when code != NULL */
    int64_t qty, cents;
    int day, mod;
    int64_t id;
    int country;
} tx_row;

static void put_tx(tribe_sbuf *b, const gen_model *m, const tx_row *t)
{
    if (t->prefix)
        putc1(b, t->prefix);
    put_i64(b, t->inv);
    putc1(b, ',');
    if (t->code) {
        puts0(b, t->code);
        putc1(b, ',');
        puts0(b, t->desc);
    } else {
        puts0(b, catalogue[t->prod].code);
        putc1(b, ',');
        put(b, m->desc_csv[t->prod], m->desc_len[t->prod]);
    }
    putc1(b, ',');
    put_i64(b, t->qty);
    putc1(b, ',');
    put_datetime(b, m, t->day, t->mod, 0);
    putc1(b, ',');
    put_fixed(b, t->cents, 2);
    putc1(b, ',');
    if (t->id >= 0)
        put_i64(b, t->id);
    putc1(b, ',');
    put_country(b, t->country);
    putc1(b, '\n');
}

/* A product not among used[0..n). */
static int pick_new_product(grng *r, const gen_model *m, const int *used, int n)
{
    for (;;) {
        int p = g_pick_cdf(r, m->prod_cdf, GEN_NPROD);
        int dup = 0;
        for (int k = 0; k < n; k++)
            dup |= used[k] == p;
        if (!dup)
            return p;
    }
}

static int invoice_minute(grng *r)
{
    return (7 + g_pick(r, invoice_hour_w, 14)) * 60 + g_below(r, 60);
}

/* Quantity of an ordinary line: the pack size scaled by the segment and the
 * customer, never below 1; large orders get the wholesale price (-15%). */
static void line_qty_price(grng *r, const gen_segdef *sd, const gen_plan *pl, int prod,
                           int64_t *qty, int64_t *cents)
{
    const gen_product *p = &catalogue[prod];
    double f = sd->basket_scale * pl->qscale * exp(0.5 * g_normal(r) - 0.125);
    int64_t q = (int64_t)lround(p->pack * f);
    if (q < 1)
        q = 1;
    if (q > 5000)
        q = 5000;
    *qty = q;
    *cents = q >= 4 * p->pack && p->pack > 1 ? (int64_t)lround(p->cents * 0.85) : p->cents;
}

static void emit_transactions(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id,
                              int64_t inv0, tribe_sbuf *b, int64_t *cnt, int64_t *last_day)
{
    grng r = grng_make(m, i, ST_LINES);
    const gen_segdef *sd = &gen_segdefs[pl->seg];
    int64_t inv = inv0;
    int64_t rows = 0, kept = 0, cents_sum = 0;
    int distinct[GEN_NPROD + 1] = {0};
    int64_t last_inv = inv0;
    double p_line = (sd->lines_mean - 1.0) / 3.0;

    for (int j = 0; j < pl->n_inv; j++) {
        int used[6], nused = 0;
        int64_t q_used[6], c_used[6];
        int nlines = 1 + g_bern(&r, p_line) + g_bern(&r, p_line) + g_bern(&r, p_line);
        tx_row t = {0, inv, 0, NULL, NULL, 0, 0, pl->day[j], invoice_minute(&r), id, pl->country};
        last_inv = inv++;
        for (int l = 0; l < nlines; l++) {
            t.prod = pick_new_product(&r, m, used, nused);
            line_qty_price(&r, sd, pl, t.prod, &t.qty, &t.cents);
            used[nused] = t.prod, q_used[nused] = t.qty, c_used[nused++] = t.cents;
            int copies = 1 + g_bern(&r, m->p.duplicate);
            for (int c = 0; c < copies; c++)
                put_tx(b, m, &t);
            rows += copies;
            kept += copies;
            cents_sum += copies * t.qty * t.cents;
            cnt[GC_DUP] += copies - 1;
            distinct[t.prod] = 1;
        }
        /* Foreign orders usually carry postage: an ordinary kept line. */
        if (pl->country >= 0 && g_bern(&r, 0.5)) {
            t.prod = GEN_POST;
            t.qty = 1 + g_bern(&r, 0.3);
            t.cents = catalogue[GEN_POST].cents;
            put_tx(b, m, &t);
            rows++, kept++;
            cents_sum += t.qty * t.cents;
            distinct[GEN_POST] = 1;
        }
        /* Extra dirty lines on this invoice, each failing exactly one rule:
         * a returned/damaged line (Quantity <= 0, price kept positive) and a
         * free line (UnitPrice 0.00, Quantity positive). Both use a product
         * not on the invoice, so neither repeats a kept line. */
        if (g_bern(&r, m->p.bad_quantity)) {
            t.prod = pick_new_product(&r, m, used, nused);
            used[nused++] = t.prod;
            t.qty = -(int64_t)g_below(&r, 13); /* 0 .. -12 */
            t.cents = catalogue[t.prod].cents;
            put_tx(b, m, &t);
            rows++;
            cnt[GC_NONPOS_QTY]++;
        }
        if (g_bern(&r, m->p.zero_price)) {
            t.prod = pick_new_product(&r, m, used, nused);
            used[nused++] = t.prod;
            t.qty = 1 + g_below(&r, 12);
            t.cents = 0;
            put_tx(b, m, &t);
            rows++;
            cnt[GC_NONPOS_PRICE]++;
        }
        /* A cancellation of one or two of the invoice's lines, the same day. */
        if (pl->cancel[j]) {
            tx_row c = t;
            c.prefix = 'C';
            c.inv = inv++;
            c.mod = t.mod + 1 + g_below(&r, 120);
            if (c.mod > 23 * 60 + 59)
                c.mod = 23 * 60 + 59;
            int ncancel = nlines >= 2 && g_bern(&r, 0.3) ? 2 : 1;
            for (int l = 0; l < ncancel; l++) {
                c.prod = used[l];
                c.qty = -q_used[l];
                c.cents = c_used[l];
                put_tx(b, m, &c);
            }
            rows += ncancel;
            cnt[GC_CANCEL] += ncancel;
        }
    }
    /* A guest checkout: same shopper, no CustomerID on the rows. */
    if (pl->guest) {
        int used[3], nused = 0;
        int nlines = 1 + g_below(&r, 3);
        tx_row t = {0, inv++, 0, NULL, NULL, 0, 0, g_below(&r, GEN_WINDOW), invoice_minute(&r), -1,
                    pl->country};
        for (int l = 0; l < nlines; l++) {
            t.prod = pick_new_product(&r, m, used, nused);
            used[nused++] = t.prod;
            line_qty_price(&r, sd, pl, t.prod, &t.qty, &t.cents);
            put_tx(b, m, &t);
        }
        rows += nlines;
        cnt[GC_MISSING_ID] += nlines;
    }
    /* A bad-debt adjustment ('A' invoice, negative price): counted by the price rule. */
    if (pl->adjust) {
        tx_row t = {'A', inv++, 0, "B", "Adjust bad debt", 1, -(100 + g_below(&r, 50000)),
                    g_below(&r, pl->tenure + 1), invoice_minute(&r), id, pl->country};
        put_tx(b, m, &t);
        rows++;
        cnt[GC_NONPOS_PRICE]++;
    }
    /* An unparseable line: a Quantity that is not a number, or a column lost. */
    if (pl->malformed) {
        put_i64(b, last_inv);
        if (g_bern(&r, 0.5)) {
            puts0(b, ",85123A,WHITE HANGING HEART T-LIGHT HOLDER,abc,");
            put_datetime(b, m, pl->recency, invoice_minute(&r), 0);
            puts0(b, ",2.95,");
            put_i64(b, id);
            putc1(b, ',');
            put_country(b, pl->country);
        } else {
            puts0(b, ",22423,REGENCY CAKESTAND 3 TIER,1,");
            put_datetime(b, m, pl->recency, invoice_minute(&r), 0);
            puts0(b, ",12.75,");
            put_i64(b, id);
        }
        putc1(b, '\n');
        rows++;
        cnt[GC_MALFORMED]++;
    }
    int nd = 0;
    for (int p = 0; p <= GEN_NPROD; p++)
        nd += distinct[p];
    cnt[GC_TX_ROWS] += rows;
    cnt[GC_KEPT_ROWS] += kept;
    cnt[GC_KEPT_INVOICES] += pl->n_inv;
    cnt[GC_KEPT_CENTS] += cents_sum;
    cnt[GC_DISTINCT_PRODUCTS] += nd;
    int64_t *seg = cnt + GC_SEG_BASE + pl->seg * GC_SEG_STRIDE;
    seg[GS_COUNT]++;
    seg[GS_RECENCY] += pl->recency + 1;
    seg[GS_FREQUENCY] += pl->n_inv;
    seg[GS_CENTS] += cents_sum;
    int64_t day = m->end_day - pl->recency;
    if (day > *last_day)
        *last_day = day;
}

static void put_web_row(tribe_sbuf *b, const gen_model *m, grng *r, int64_t id, int d, int pages,
                        int64_t tenths, const char *device)
{
    put_i64(b, id);
    putc1(b, ',');
    put_datetime(b, m, d, g_pick(r, web_hour_w, 24) * 60 + g_below(r, 60), g_below(r, 60));
    putc1(b, ',');
    put_i64(b, pages);
    putc1(b, ',');
    put_fixed(b, tenths, 1);
    putc1(b, ',');
    puts0(b, device);
    putc1(b, '\n');
}

static int web_session_count(const gen_segdef *sd, grng *r)
{
    if (g_bern(r, sd->p_no_web))
        return 0;
    int n = 1 + g_poisson(r, (sd->sessions_mean - 1.0) * exp(0.5 * g_normal(r) - 0.125));
    return n > GEN_MAX_SESSIONS ? GEN_MAX_SESSIONS : n;
}

/* Sessions cluster around the customer's buying period: from 30 days before
 * the first purchase to 20 days after the last. */
static int web_day(grng *r, const gen_plan *pl)
{
    int lo = pl->recency - 20, hi = pl->tenure + 30;
    int d = lo + g_below(r, hi - lo + 1);
    return clampi(d, 0, GEN_WINDOW - 1);
}

/* r: the customer's web stream, positioned after the session-count draw. */
static void emit_web(const gen_model *m, grng *rp, const gen_plan *pl, int64_t id, tribe_sbuf *b,
                     int64_t *cnt, int nsess)
{
    grng r = *rp;
    const gen_segdef *sd = &gen_segdefs[pl->seg];
    int primary = g_pick(&r, sd->device, GEN_NDEV);
    double pscale = exp(0.3 * g_normal(&r) - 0.045);
    for (int k = 0; k < nsess; k++) {
        int d = web_day(&r, pl);
        int pages = g_poisson(&r, sd->pages_mean * pscale);
        double mins = pages * sd->minutes_per_page * exp(0.5 * g_normal(&r) - 0.125) + 0.5 * g_unif(&r);
        int dev = g_bern(&r, 0.75) ? primary : g_pick(&r, sd->device, GEN_NDEV);
        put_web_row(b, m, &r, id, d, pages, (int64_t)lround(mins * 10), gen_device_names[dev]);
    }
    int64_t rows = nsess;
    if (g_bern(&r, m->p.web_unmatched)) {
        int n = 1 + g_bern(&r, 0.5);
        for (int k = 0; k < n; k++) {
            int pages = 1 + g_below(&r, 6);
            put_web_row(b, m, &r, id + 2 - (id - 12346) % 3, g_below(&r, GEN_WINDOW), pages,
                        pages * 7, gen_device_names[g_below(&r, GEN_NDEV)]);
        }
        rows += n;
        cnt[GC_WEB_UNMATCHED] += n;
    }
    if (g_bern(&r, m->p.web_malformed)) {
        put_i64(b, id);
        putc1(b, ',');
        put_datetime(b, m, web_day(&r, pl), 600, 0);
        if (g_bern(&r, 0.5))
            puts0(b, ",many,3.5,desktop\n");
        else
            puts0(b, ",4,3.5\n");
        rows++;
        cnt[GC_WEB_MALFORMED]++;
    }
    cnt[GC_WEB_ROWS] += rows;
    cnt[GC_WEB_SESSIONS] += nsess;
    cnt[GC_WEB_CUSTOMERS] += nsess > 0;
    cnt[GC_SEG_BASE + pl->seg * GC_SEG_STRIDE + GS_SESSIONS] += nsess;
}

static void put_demo_row(tribe_sbuf *b, const gen_model *m, int64_t id, int age, int country, int occ,
                         int sub)
{
    put_i64(b, id);
    putc1(b, ',');
    if (age >= 0)
        put_i64(b, age);
    putc1(b, ',');
    put_country(b, country);
    putc1(b, ',');
    puts0(b, m->occ_csv[occ]);
    putc1(b, ',');
    puts0(b, gen_subscription_names[sub]);
    putc1(b, '\n');
}

static void emit_demographics(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id,
                              tribe_sbuf *b, int64_t *cnt)
{
    grng r = grng_make(m, i, ST_DEMO);
    const gen_segdef *sd = &gen_segdefs[pl->seg];
    int age = clampi((int)lround(sd->age_mean + sd->age_sd * g_normal(&r)), 18, 90);
    int occ;
    if (age > 66 && g_bern(&r, 0.8))
        occ = GEN_NOCC - 1; /* retired */
    else if (age < 23 && g_bern(&r, 0.6))
        occ = 0; /* student */
    else
        occ = g_pick(&r, sd->occupation, GEN_NOCC);
    int sub = g_pick(&r, sd->subscription, GEN_NSUB);
    int64_t ghost = id + 2 - (id - 12346) % 3;
    int64_t rows = 1;
    if (g_bern(&r, m->p.missing_age)) {
        age = -1;
        cnt[GC_DEMO_MISSING_AGE]++;
    }
    /* An outdated row first (an older subscription): the later row wins. */
    if (g_bern(&r, m->p.demo_duplicate)) {
        put_demo_row(b, m, id, age, pl->country, occ, (sub + 2) % GEN_NSUB);
        rows++;
        cnt[GC_DEMO_DUP]++;
    }
    put_demo_row(b, m, id, age, pl->country, occ, sub);
    if (g_bern(&r, m->p.demo_unmatched)) {
        put_demo_row(b, m, ghost, 18 + g_below(&r, 60), -1, g_below(&r, GEN_NOCC),
                     g_below(&r, GEN_NSUB));
        rows++;
        cnt[GC_DEMO_UNMATCHED]++;
    }
    if (g_bern(&r, m->p.demo_malformed)) {
        put_i64(b, ghost);
        puts0(b, g_bern(&r, 0.5) ? ",forty,United Kingdom,retired,none\n" : ",41,United Kingdom,manager\n");
        rows++;
        cnt[GC_DEMO_MALFORMED]++;
    }
    cnt[GC_DEMO_ROWS] += rows;
}

/* contacts.csv row of customer i: its own stream, so adding it changed no
 * other file. Addresses are synthetic: e-mail under example.com (RFC 2606),
 * phones in Ofcom's drama range +44 7700 900000-900999 (1,000 numbers, so
 * they repeat every 1,000 customers). */
static void emit_contact(const gen_model *m, int64_t i, int64_t id, tribe_sbuf *b, int64_t *cnt)
{
    grng r = grng_make(m, i, ST_CONTACT);
    int has_email = !g_bern(&r, GEN_P_NO_EMAIL), has_phone = !g_bern(&r, GEN_P_NO_PHONE);
    int email_in = has_email && !g_bern(&r, GEN_P_EMAIL_OPTOUT);
    int sms_in = has_phone && !g_bern(&r, GEN_P_SMS_OPTOUT);
    char phone[24];
    put_i64(b, id);
    putc1(b, ',');
    if (has_email) {
        puts0(b, "customer");
        put_i64(b, id);
        puts0(b, "@example.com");
    }
    putc1(b, ',');
    if (has_phone) {
        snprintf(phone, sizeof phone, "+447700900%03d", (int)(i % 1000));
        puts0(b, phone);
    }
    puts0(b, email_in ? ",1" : ",0");
    puts0(b, sms_in ? ",1\n" : ",0\n");
    cnt[GC_CONTACT_ROWS]++;
    cnt[GC_CONTACT_NO_EMAIL] += !has_email;
    cnt[GC_CONTACT_NO_PHONE] += !has_phone;
    cnt[GC_CONTACT_EMAIL_OPTOUT] += has_email && !email_in;
    cnt[GC_CONTACT_SMS_OPTOUT] += has_phone && !sms_in;
}

/* The Online Retail layout's rows of customer i: transactions, web sessions
 * and demographics. */
static tribe_status retail_customer(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id,
                                    int64_t inv0, tribe_sbuf out[GEN_NFILES], int64_t *cnt, int64_t *last_day)
{
    tribe_status st = TRIBE_OK;
    /* Worst cases: per invoice 4 lines twice, postage, 2 dirty lines and
     * 2 cancelled lines; plus guest (3), adjustment and malformed rows. */
    TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_TX], (size_t)(14 * pl->n_inv + 6) * TX_ROW_MAX));
    int nsess = 0;
    grng wr = grng_make(m, i, ST_WEB);
    if (m->web) {
        nsess = web_session_count(&gen_segdefs[pl->seg], &wr);
        TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_WEB], (size_t)(nsess + 4) * WEB_ROW_MAX));
    }
    if (m->demo)
        TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_DEMO], 5 * DEMO_ROW_MAX));
    emit_transactions(m, i, pl, id, inv0, &out[GEN_TX], cnt, last_day);
    if (m->web)
        emit_web(m, &wr, pl, id, &out[GEN_WEB], cnt, nsess);
    if (m->demo)
        emit_demographics(m, i, pl, id, &out[GEN_DEMO], cnt);
cleanup:
    return st;
}

const char *const gen_topic_names[GEN_NTOPIC] = {"delivery", "price", "quality", "website"};
static const char *const topic_words[GEN_NTOPIC][6] = {
    {"delivery", "courier", "parcel", "arrived", "shipping", "tracking"},
    {"price", "discount", "offer", "voucher", "money", "sale"},
    {"fabric", "stitching", "quality", "material", "size", "cotton"},
    {"website", "checkout", "login", "app", "payment", "password"}};
static const char *const review_open[4] = {"The", "About the", "My", "Honestly, the"};
static const char *const review_pos[5] = {"was great", "love it", "excellent", "very happy", "really good"};
static const char *const review_neg[5] = {"was terrible", "very disappointed", "awful", "not good at all",
                                          "really bad"};
#define REVIEW_ROW_MAX 192

double gen_review_positive(const gen_model *m, int seg)
{
    return m->nseg > 1 ? 0.9 - 0.7 * seg / (m->nseg - 1) : 0.9;
}

/* One review: "<id>,<date>,"<opener> w1 w2 w3 w4 <sentiment>."" with four
 * distinct words of the topic (none of them a lexicon word). */
static void put_review(tribe_sbuf *b, const gen_model *m, grng *r, int64_t id, int topic, int positive)
{
    int w[6] = {0, 1, 2, 3, 4, 5};
    for (int k = 0; k < 4; k++) { /* a partial Fisher-Yates shuffle */
        int j = k + g_below(r, 6 - k), t = w[k];
        w[k] = w[j];
        w[j] = t;
    }
    put_i64(b, id);
    putc1(b, ',');
    puts0(b, m->date[g_below(r, GEN_WINDOW)]);
    puts0(b, ",\"");
    puts0(b, review_open[g_below(r, 4)]);
    for (int k = 0; k < 4; k++) {
        putc1(b, ' ');
        puts0(b, topic_words[topic][w[k]]);
    }
    putc1(b, ' ');
    puts0(b, positive ? review_pos[g_below(r, 5)] : review_neg[g_below(r, 5)]);
    puts0(b, ".\"\n");
}

/* reviews.csv rows of customer i (its own stream, so no other file
 * changed): none (35%) or 1..3 reviews, 85% about the segment's topic (else
 * any), positive with the segment's planted chance; dirt at the web events'
 * rates: a review of a never-buying id and a row whose date does not parse. */
static void emit_reviews(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id, tribe_sbuf *b, int64_t *cnt)
{
    grng r = grng_make(m, i, ST_REVIEW);
    int n = g_bern(&r, 0.35) ? 0 : 1 + g_below(&r, 3);
    double ppos = gen_review_positive(m, pl->seg);
    int64_t *sc = cnt + GC_SEG_BASE + pl->seg * GC_SEG_STRIDE;
    for (int k = 0; k < n; k++) {
        int topic = g_bern(&r, 0.85) ? pl->seg % GEN_NTOPIC : g_below(&r, GEN_NTOPIC);
        int pos = g_bern(&r, ppos);
        put_review(b, m, &r, id, topic, pos);
        sc[GS_REVIEWS]++;
        sc[GS_REVIEWS_POSITIVE] += pos;
    }
    int64_t rows = n;
    if (g_bern(&r, m->p.web_unmatched)) {
        put_review(b, m, &r, id + 2 - (id - 12346) % 3, g_below(&r, GEN_NTOPIC), 1);
        rows++;
        cnt[GC_REVIEW_UNMATCHED]++;
    }
    if (g_bern(&r, m->p.web_malformed)) {
        put_i64(b, id);
        puts0(b, ",yesterday,\"The parcel was fine.\"\n");
        rows++;
        cnt[GC_REVIEW_MALFORMED]++;
    }
    cnt[GC_REVIEW_ROWS] += rows;
}

tribe_status gen_customer(const gen_model *m, int64_t i, int64_t inv0, tribe_sbuf out[GEN_NFILES],
                          int64_t *cnt, int64_t *last_day)
{
    tribe_status st = TRIBE_OK;
    gen_plan pl;
    gen_plan_customer(m, i, &pl);
    int64_t id = gen_customer_id(m, i);
    TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_TRUTH], 64));
    TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_CONTACTS], 128));
    if (m->layout == TRIBE_GEN_FINANCIAL)
        TRIBE_TRY(gen_fin_customer(m, i, &pl, id, inv0, out, cnt, last_day));
    else
        TRIBE_TRY(retail_customer(m, i, &pl, id, inv0, out, cnt, last_day));
    put_i64(&out[GEN_TRUTH], id);
    putc1(&out[GEN_TRUTH], ',');
    put_i64(&out[GEN_TRUTH], pl.seg);
    putc1(&out[GEN_TRUTH], '\n');
    emit_contact(m, i, id, &out[GEN_CONTACTS], cnt);
    if (m->reviews) {
        TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_REVIEWS], 5 * REVIEW_ROW_MAX));
        emit_reviews(m, i, &pl, id, &out[GEN_REVIEWS], cnt);
    }
cleanup:
    return st;
}
