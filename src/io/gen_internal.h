/* Private to the generator (src/io/gen*.c): the customer model and the
 * counters the driver reduces into truth.json. Not a public header. */
#ifndef TRIBE_GEN_INTERNAL_H
#define TRIBE_GEN_INTERNAL_H

#include "tribe/date.h"
#include "tribe/gen.h"
#include "tribe/sbuf.h"

#include <math.h>
#include <string.h>

/* Output files, in the order the driver handles them. */
enum { GEN_TX, GEN_WEB, GEN_DEMO, GEN_TRUTH, GEN_CONTACTS, GEN_REVIEWS, GEN_NFILES };

/* Days covered by the data: invoice and session days are end_day - [0, GEN_WINDOW). */
#define GEN_WINDOW 730
#define GEN_MAX_INVOICES 100 /* per customer */
#define GEN_MAX_SESSIONS 300 /* per customer */
#define GEN_NDEV 4
#define GEN_NOCC 8
#define GEN_NSUB 3
#define GEN_NPROD 48         /* catalogue products drawn for ordinary lines (POST is extra) */

/* One planted segment archetype. All distributions are per customer. */
typedef struct {
    const char *name;
    double share;
    /* days since the last purchase: median * exp(sigma * z), clipped to [min, max] */
    double rec_median, rec_sigma;
    int rec_min, rec_max;
    /* days from the first to the last purchase, same form; tenure = recency + span <= tenure_max */
    double span_median, span_sigma;
    int tenure_max;
    double invoices_mean;  /* 1 + Poisson(invoices_mean - 1, with a lognormal customer factor) */
    double lines_mean;     /* lines per invoice, 1 + Binomial(3, (lines_mean - 1) / 3) */
    double basket_scale;   /* multiplies each product's usual pack quantity */
    double p_foreign;      /* chance the customer is outside the United Kingdom */
    double p_no_web;       /* chance of no web session at all */
    double sessions_mean;  /* mean sessions of a customer with any */
    double pages_mean, minutes_per_page;
    double device[GEN_NDEV];
    double age_mean, age_sd;
    double occupation[GEN_NOCC];
    double subscription[GEN_NSUB];
} gen_segdef;

extern const gen_segdef gen_segdefs[TRIBE_GEN_MAX_SEGMENTS];
extern const char *const gen_device_names[GEN_NDEV];
extern const char *const gen_occupation_names[GEN_NOCC];
extern const char *const gen_subscription_names[GEN_NSUB];

/* Base dirt probabilities (multiplied by cfg->dirt, clipped to 1). */
typedef struct {
    double guest_invoice;    /* per customer: an invoice without CustomerID */
    double cancellation;     /* per invoice: followed by a 'C' invoice */
    double bad_quantity;     /* per invoice: one extra line with Quantity <= 0 */
    double zero_price;       /* per invoice: one extra line with UnitPrice 0.00 */
    double adjustment;       /* per customer: an 'A' bad-debt adjustment with negative price */
    double duplicate;        /* per kept line: the line written twice */
    double malformed;        /* per customer: one unparseable line */
    double web_unmatched;    /* per customer: sessions of an id that never bought */
    double web_malformed;
    double demo_duplicate;   /* per customer: an outdated row before the real one */
    double demo_unmatched;
    double demo_malformed;
    double missing_age;
} gen_dirt;

extern const gen_dirt gen_dirt_base;

/* Counters, all int64 so one sum reduces them. Exact counts of what was written. */
enum {
    GC_TX_ROWS, GC_KEPT_ROWS, GC_MISSING_ID, GC_CANCEL, GC_NONPOS_QTY, GC_NONPOS_PRICE, GC_DUP,
    GC_MALFORMED, GC_KEPT_INVOICES, GC_KEPT_CENTS, GC_DISTINCT_PRODUCTS,
    GC_WEB_ROWS, GC_WEB_MALFORMED, GC_WEB_UNMATCHED, GC_WEB_CUSTOMERS, GC_WEB_SESSIONS,
    GC_DEMO_ROWS, GC_DEMO_MALFORMED, GC_DEMO_DUP, GC_DEMO_UNMATCHED, GC_DEMO_MISSING_AGE,
    GC_CONTACT_ROWS, GC_CONTACT_NO_EMAIL, GC_CONTACT_NO_PHONE, GC_CONTACT_EMAIL_OPTOUT, GC_CONTACT_SMS_OPTOUT,
    /* financial layout (gen_fin.c): purchases are GC_KEPT_ROWS / GC_KEPT_CENTS */
    GC_FIN_REFUNDS, GC_FIN_REFUND_CENTS, GC_FIN_ONLINE, GC_FIN_CHIP, GC_FIN_SWIPE,
    GC_REVIEW_ROWS, GC_REVIEW_MALFORMED, GC_REVIEW_UNMATCHED, /* reviews.csv */
    GC_SEG_BASE
};
/* Per segment s: GC_SEG_BASE + s * GC_SEG_STRIDE + one of these. */
enum { GS_COUNT, GS_RECENCY, GS_FREQUENCY, GS_CENTS, GS_SESSIONS,
       /* financial layout: purchases, online and chip purchases, refunded cents, and per customer
        * yearly income and total debt (dollars) and credit score */
       GS_FIN_PURCHASES, GS_FIN_ONLINE, GS_FIN_CHIP, GS_FIN_REFUND_CENTS, GS_FIN_INCOME, GS_FIN_DEBT,
       GS_FIN_SCORE,
       GS_REVIEWS, GS_REVIEWS_POSITIVE, /* reviews.csv: reviews, positive ones */
       GC_SEG_STRIDE };
#define GC_N (GC_SEG_BASE + GC_SEG_STRIDE * TRIBE_GEN_MAX_SEGMENTS)

/* Everything derived from the configuration, read-only while generating
 * (shared by threads). */
typedef struct {
    uint64_t seed;
    int nseg;
    double seg_cdf[TRIBE_GEN_MAX_SEGMENTS];
    int web, demo, reviews;
    int layout;                 /* TRIBE_GEN_RETAIL or TRIBE_GEN_FINANCIAL */
    gen_dirt p;                 /* scaled dirt probabilities */
    int64_t end_day;            /* days since 1970-01-01 of the last invoice day */
    char date[GEN_WINDOW][11];  /* date[d] = "YYYY-MM-DD" of end_day - d */
    char desc_csv[GEN_NPROD + 1][112]; /* descriptions, CSV-escaped (last: POSTAGE) */
    unsigned char desc_len[GEN_NPROD + 1];
    double prod_cdf[GEN_NPROD];
    char occ_csv[GEN_NOCC][40];
} gen_model;

/* Parses "YYYY-MM-DD" into days since 1970-01-01; USAGE naming the text on error. */
tribe_status gen_parse_date(const char *s, int64_t *day);

/* Validates cfg and fills m. USAGE on a bad cfg. Not collective. */
tribe_status gen_model_init(gen_model *m, const tribe_gen_cfg *cfg);

/* Customer i's id: 12346 + 3 i + (0 or 1); 12346 + 3 i + 2 is never a
 * customer and serves as the id of "unmatched" web and demographic rows. */
int64_t gen_customer_id(const gen_model *m, int64_t i);

/* How many invoice numbers customer i uses (kept, cancellation, guest and
 * adjustment invoices). Cheap: the driver numbers invoices globally from it. */
int64_t gen_invoice_count(const gen_model *m, int64_t i);

/* Contact data of contacts.csv (never features): chances per customer of
 * no e-mail, no phone, and of opting out of each channel when reachable. */
#define GEN_P_NO_EMAIL 0.04
#define GEN_P_NO_PHONE 0.15
#define GEN_P_EMAIL_OPTOUT 0.08
#define GEN_P_SMS_OPTOUT 0.25


/* ---- shared by the generator's layouts (gen_model.c, gen_fin.c) ---------- */

/* ---- random draws -------------------------------------------------------- */
typedef struct {
    uint64_t key, stream, n;
    double spare; /* Box-Muller makes normals in pairs; the second waits here */
    int has_spare;
} grng;

enum { ST_PLAN = 1, ST_LINES = 2, ST_WEB = 3, ST_DEMO = 4, ST_CONTACT = 5, ST_REVIEW = 6 };

static inline grng grng_make(const gen_model *m, int64_t i, uint64_t stream)
{
    grng r = {tribe_hash2(m->seed, (uint64_t)i), stream, 0, 0.0, 0};
    return r;
}
static inline double g_unif(grng *r)
{
    return (double)(tribe_rng_u64(r->key, r->stream, r->n++) >> 11) * 0x1.0p-53;
}
static inline int g_below(grng *r, int n)
{
    return (int)(((unsigned __int128)tribe_rng_u64(r->key, r->stream, r->n++) * (uint64_t)n) >> 64);
}
static inline int g_bern(grng *r, double p) { return g_unif(r) < p; }
static inline double g_normal(grng *r)
{
    if (r->has_spare) {
        r->has_spare = 0;
        return r->spare;
    }
    double u1 = g_unif(r), u2 = g_unif(r);
    if (u1 < 1e-300)
        u1 = 1e-300;
    double rad = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
    r->spare = rad * sin(a);
    r->has_spare = 1;
    return rad * cos(a);
}
/* Poisson by inversion; lam is capped so the loop stays short. */
static inline int g_poisson(grng *r, double lam)
{
    if (lam <= 0)
        return 0;
    if (lam > 250)
        lam = 250;
    double u = g_unif(r), p = exp(-lam), f = p;
    int k = 0;
    while (u > f && k < 1000) {
        k++;
        p *= lam / k;
        f += p;
    }
    return k;
}
/* Index drawn with the given (unnormalised) weights. */
static inline int g_pick(grng *r, const double *w, int n)
{
    double tot = 0;
    for (int k = 0; k < n; k++)
        tot += w[k];
    double u = g_unif(r) * tot;
    for (int k = 0; k < n - 1; k++) {
        if (u < w[k])
            return k;
        u -= w[k];
    }
    return n - 1;
}
static inline int g_pick_cdf(grng *r, const double *cdf, int n)
{
    double u = g_unif(r);
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (u < cdf[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}
static inline int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* ---- the plan: who the customer is and which invoices it has ------------- */
typedef struct {
    int seg, country; /* country: -1 = United Kingdom, else foreign_names[] */
    int recency, tenure;         /* days before end_day of the last / first purchase */
    int n_inv;
    double qscale;
    short day[GEN_MAX_INVOICES]; /* days before end_day, non-increasing (dates ascend) */
    unsigned char cancel[GEN_MAX_INVOICES];
    int guest, adjust, malformed;
    int n_numbers;               /* invoice numbers used */
} gen_plan;

/* Customer i's plan: segment, country, invoice days and dirt draws (stream ST_PLAN). */
void gen_plan_customer(const gen_model *m, int64_t i, gen_plan *pl);

/* ---- row formatting (no snprintf in the hot path) ------------------------ */
static inline void put(tribe_sbuf *b, const char *s, size_t n)
{
    memcpy(b->p + b->len, s, n);
    b->len += n;
}
static inline void putc1(tribe_sbuf *b, char c) { b->p[b->len++] = c; }
static inline void puts0(tribe_sbuf *b, const char *s) { put(b, s, strlen(s)); }
static inline void put_i64(tribe_sbuf *b, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        putc1(b, '-');
    while (n)
        putc1(b, tmp[--n]);
}
/* Fixed point with `dec` decimals: 1234 cents -> "12.34". */
static inline void put_fixed(tribe_sbuf *b, int64_t v, int dec)
{
    int64_t scale = dec == 2 ? 100 : 10;
    if (v < 0) {
        putc1(b, '-');
        v = -v;
    }
    put_i64(b, v / scale);
    putc1(b, '.');
    int64_t f = v % scale;
    if (dec == 2)
        putc1(b, (char)('0' + f / 10));
    putc1(b, (char)('0' + f % 10));
}
static inline void put2(tribe_sbuf *b, int v)
{
    putc1(b, (char)('0' + v / 10));
    putc1(b, (char)('0' + v % 10));
}
/* "YYYY-MM-DD HH:MM:SS" of day d (days before end) at minute-of-day mod. */
static inline void put_datetime(tribe_sbuf *b, const gen_model *m, int d, int mod, int sec)
{
    put(b, m->date[d], 10);
    putc1(b, ' ');
    put2(b, mod / 60);
    putc1(b, ':');
    put2(b, mod % 60);
    putc1(b, ':');
    put2(b, sec);
}

/* reviews.csv (docs/gen.md): the planted topics (segment s writes about
 * topic s % GEN_NTOPIC) and each segment's planted share of positive
 * reviews, 0.9 falling evenly to 0.2 over the segments. */
#define GEN_NTOPIC 4
extern const char *const gen_topic_names[GEN_NTOPIC];
double gen_review_positive(const gen_model *m, int seg);

/* Appends customer i's rows to out[GEN_TX..GEN_REVIEWS] (web/demographics only
 * when enabled), numbering its invoices from inv0, and adds to cnt[GC_N]
 * and *last_day (max over kept invoice days, as days since 1970).
 * NOMEM when a buffer cannot grow (buffers keep what they had). */
tribe_status gen_customer(const gen_model *m, int64_t i, int64_t inv0, tribe_sbuf out[GEN_NFILES],
                          int64_t *cnt, int64_t *last_day);

/* The financial layout's rows of customer i (gen_fin.c): card payments to
 * out[GEN_TX] (transactions_data.csv) and the user row to out[GEN_DEMO]
 * (users_data.csv). pl is the customer's plan, id its id; transaction ids are
 * inv0 * 8 + k, unique because invoice numbers are. Not collective.
 * Errors: NOMEM. */
tribe_status gen_fin_customer(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id, int64_t inv0,
                              tribe_sbuf out[GEN_NFILES], int64_t *cnt, int64_t *last_day);
/* truth.json's "financial" object (the planted per-segment parameters and
 * what was written), appended to b. Not collective. Errors: NOMEM. */
tribe_status gen_fin_truth(const gen_model *m, const int64_t *cnt, tribe_sbuf *b);

/* Planted Gaussian rows (gen_blobs.c, gen_periods.c): x[j] = c[j] + s[j] z_j
 * for j < d, the z_j standard normals from Box-Muller pairs on (seed,
 * stream) with counters 2 (g ceil(d/2) + p) and that + 1 (both the cosine and
 * the sine branch used). A pure function of (seed, stream, g). */
void gen_gauss_row(uint64_t seed, int stream, int64_t g, const double *c, const double *s, int d, float *x);

/* Test hook: chunks of at least n customers are generated by OpenMP threads
 * (default 1024). Not thread-safe; set it before tribe_gen. */
void gen_set_omp_min(int64_t n);

#endif
