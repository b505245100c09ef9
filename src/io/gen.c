/* tribe_gen: the distributed driver of the synthetic data generator.
 *
 * Customers are cut into fixed chunks whose size depends on the customer count
 * only. Chunks are dealt round-robin: in round t rank r generates chunk
 * t*size + r into memory (a few MB), then the ranks agree on where each chunk
 * goes (an all-gather of byte counts) and pwrite it into the one shared file.
 * So memory stays bounded, no rank waits for another's whole block, and the
 * bytes do not depend on the rank count: the file is the chunks in order.
 * With gzip each chunk becomes one gzip member; a multi-member file is a valid
 * .gz and, since chunk boundaries are fixed, it is also rank-independent.
 *
 * Invoice numbers are global ordinals (from GEN_INVOICE_BASE, in customer
 * order): each round first gathers how many numbers each chunk needs.
 *
 * Inside a chunk, OpenMP threads take contiguous sub-ranges of customers into
 * their own buffers, written out in thread order: thread count does not
 * change the bytes either.
 */
#include "gen_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define GEN_INVOICE_BASE 100000
#define GEN_CHUNK_MIN 64
#define GEN_CHUNK_MAX 4096
#define GEN_PATH_MAX 4096
/* Below this many customers in a chunk the threads' start-up and barrier cost
 * more than they save (and oversubscribed ranks spin against each other).
 * Tests lower it to exercise the threaded path on small data. */
static int64_t gen_omp_min = 1024;
void gen_set_omp_min(int64_t n) { gen_omp_min = n < 1 ? 1 : n; }

/* File names and header lines by layout (TRIBE_GEN_RETAIL, TRIBE_GEN_FINANCIAL). */
static const char *const file_base[2][GEN_NFILES] = {
    {"transactions.csv", "web_events.csv", "demographics.csv", "truth.csv", "contacts.csv", "reviews.csv"},
    {"transactions_data.csv", "web_events.csv", "users_data.csv", "truth.csv", "contacts.csv", "reviews.csv"}};
static const char *const file_header[2][GEN_NFILES] = {
    {"InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
     "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n", "CustomerID,Age,Country,Occupation,Subscription\n",
     "customer_id,segment\n", "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n", "CustomerID,Date,Text\n"},
    {"id,date,client_id,card_id,amount,use_chip,merchant_id,merchant_city,merchant_state,zip,mcc,errors\n",
     "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n",
     "id,current_age,retirement_age,birth_year,birth_month,gender,address,latitude,longitude,per_capita_income,"
     "yearly_income,total_debt,credit_score,num_credit_cards\n",
     "customer_id,segment\n", "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n", "CustomerID,Date,Text\n"}};

void tribe_gen_defaults(tribe_gen_cfg *cfg)
{
    cfg->customers = 1000;
    cfg->seed = 42;
    cfg->segments = 6;
    cfg->web = 1;
    cfg->demographics = 1;
    cfg->reviews = 1;
    cfg->dirt = 1.0;
    cfg->end_date = "2011-12-09";
    cfg->gzip = 0;
    cfg->layout = TRIBE_GEN_RETAIL;
}

/* Customers per chunk: small data still spreads over many chunks (so tests
 * exercise many ranks), large data gets chunks of a few MB. */
static int64_t chunk_customers(int64_t n)
{
    int64_t c = (n + 255) / 256;
    return c < GEN_CHUNK_MIN ? GEN_CHUNK_MIN : c > GEN_CHUNK_MAX ? GEN_CHUNK_MAX : c;
}

typedef struct {
    tribe_sbuf out[GEN_NFILES];
    int64_t cnt[GC_N];
    int64_t last_day;
    tribe_status st;
    char msg[512];
} gen_worker;

static tribe_status pwrite_all(int fd, const char *p, size_t n, int64_t off, const char *path)
{
    while (n > 0) {
        ssize_t w = pwrite(fd, p, n, (off_t)off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return tribe_fail_errno(TRIBE_ERR_IO, "%s: write of %zu bytes at offset %lld failed", path,
                                    n, (long long)off);
        }
        p += w;
        n -= (size_t)w;
        off += w;
    }
    return TRIBE_OK;
}

/* Compresses `in` as one complete gzip member into out (replacing its contents). */
static tribe_status gz_member(const char *in, size_t n, tribe_sbuf *out)
{
    tribe_status st = TRIBE_OK;
    z_stream z;
    memset(&z, 0, sizeof z);
    /* windowBits 15 + 16: gzip wrapper with a fixed header (mtime 0), so equal input gives equal bytes. */
    if (deflateInit2(&z, Z_BEST_SPEED, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return tribe_fail(TRIBE_ERR_NOMEM, "gen: cannot initialise zlib");
    out->len = 0;
    TRIBE_TRY(tribe_sbuf_reserve(out, deflateBound(&z, (uLong)n) + 64));
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = (Bytef *)out->p;
    z.avail_out = (uInt)out->cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) {
        st = tribe_fail(TRIBE_ERR_INTERNAL, "gen: zlib could not compress a %zu-byte chunk", n);
        goto cleanup;
    }
    out->len = z.total_out;
cleanup:
    deflateEnd(&z);
    return st;
}

/* Gathers k int64 from every rank (rank order) into all[size * k]. */
static tribe_status gather_i64(tribe_par *par, const int64_t *v, int k, int64_t *all)
{
    void *got = NULL;
    size_t total = 0;
    tribe_status st = tribe_par_allgatherv(par, v, (size_t)k * sizeof *v, &got, &total, NULL, NULL);
    if (st == TRIBE_OK) {
        if (total != (size_t)tribe_par_size(par) * (size_t)k * sizeof *v)
            st = tribe_fail(TRIBE_ERR_INTERNAL, "gen: gathered %zu bytes, expected %d x %d values",
                            total, tribe_par_size(par), k);
        else
            memcpy(all, got, total);
    }
    free(got);
    return st;
}

/* ---- truth.json (built by hand: cJSON stays in config/persona/report) ---- */
static tribe_status append_mix(tribe_sbuf *b, const char *key, const double *w,
                               const char *const *names, int n, const char *tail)
{
    tribe_status st = tribe_sbuf_printf(b, "\"%s\": {", key);
    for (int k = 0; k < n && st == TRIBE_OK; k++)
        st = tribe_sbuf_printf(b, "\"%s\": %g%s", names[k], w[k], k + 1 < n ? ", " : "");
    return st == TRIBE_OK ? tribe_sbuf_printf(b, "}%s", tail) : st;
}

static const char *money(int64_t cents, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s%lld.%02lld", cents < 0 ? "-" : "", (long long)(llabs(cents) / 100),
             (long long)(llabs(cents) % 100));
    return buf;
}

/* truth.json's "reviews" member (the last): the counts written and each
 * segment's planted topic and positive share, with what was drawn. */
static tribe_status reviews_json(const gen_model *m, const int64_t *c, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b,
                      "  \"reviews\": {\"review_rows\": %lld, \"malformed\": %lld, \"text_rows_unmatched\": %lld,\n"
                      "    \"segments\": [",
                      (long long)c[GC_REVIEW_ROWS], (long long)c[GC_REVIEW_MALFORMED],
                      (long long)c[GC_REVIEW_UNMATCHED]));
    for (int s = 0; s < m->nseg; s++) {
        const int64_t *sc = c + GC_SEG_BASE + s * GC_SEG_STRIDE;
        TRIBE_TRY(tribe_sbuf_printf(b,
                          "%s\n      {\"id\": %d, \"topic\": \"%s\", \"positive_share\": %.4g, \"reviews\": %lld, "
                          "\"positive_reviews\": %lld}",
                          s ? "," : "", s, gen_topic_names[s % GEN_NTOPIC], gen_review_positive(m, s),
                          (long long)sc[GS_REVIEWS], (long long)sc[GS_REVIEWS_POSITIVE]));
    }
    TRIBE_TRY(tribe_sbuf_printf(b, "]}\n}\n"));
cleanup:
    return st;
}

static tribe_status write_truth_json(const gen_model *m, const tribe_gen_cfg *cfg, const char *outdir,
                                     const char *const *names, const int *enabled,
                                     const int64_t *c, int64_t last_day, int64_t invoice_numbers)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    char path[GEN_PATH_MAX], day[11], mbuf[40];
    const gen_dirt *p = &m->p;
    int64_t gap = last_day - m->end_day; /* <= 0; recency counts from last_day + 1 */
    double share_tot = 0;
    for (int s = 0; s < m->nseg; s++)
        share_tot += gen_segdefs[s].share;
    tribe_format_day(last_day, day);

    TRIBE_TRY(tribe_sbuf_printf(&b, "{\n  \"generator\": \"tribe gen %s\",\n  \"seed\": %llu,\n  \"customers\": %lld,\n"
                          "  \"customers_with_kept_rows\": %lld,\n  \"end_date\": \"%s\",\n"
                          "  \"window_days\": %d,\n  \"dirt_scale\": %g,\n  \"gzip\": %s,\n",
                      TRIBE_VERSION, (unsigned long long)cfg->seed, (long long)cfg->customers,
                      (long long)cfg->customers, m->date[0], GEN_WINDOW, cfg->dirt,
                      cfg->gzip ? "true" : "false"));
    TRIBE_TRY(tribe_sbuf_printf(&b, "  \"layout\": \"%s\",\n",
                                m->layout == TRIBE_GEN_FINANCIAL ? "financial" : "retail"));
    if (m->layout == TRIBE_GEN_FINANCIAL)
        TRIBE_TRY(gen_fin_truth(m, c, &b));
    TRIBE_TRY(tribe_sbuf_printf(&b, "  \"files\": {"));
    static const char *const keys[GEN_NFILES] = {"transactions", "web_events", "demographics",
                                                 "truth",        "contacts",   "reviews"};
    for (int f = 0; f < GEN_NFILES; f++) {
        if (enabled[f])
            TRIBE_TRY(tribe_sbuf_printf(&b, "\"%s\": \"%s\"", keys[f], names[f]));
        else
            TRIBE_TRY(tribe_sbuf_printf(&b, "\"%s\": null", keys[f]));
        TRIBE_TRY(tribe_sbuf_printf(&b, "%s", f + 1 < GEN_NFILES ? ", " : "},\n"));
    }
    TRIBE_TRY(tribe_sbuf_printf(&b, "  \"customer_ids\": \"12346 + 3*i + (0 or 1) for customer i, ascending; "
                          "12346 + 3*i + 2 never buys (unmatched web/demographic rows)\",\n"
                          "  \"invoice_numbers\": {\"first\": %d, \"count\": %lld},\n",
                      GEN_INVOICE_BASE, (long long)invoice_numbers));

    TRIBE_TRY(tribe_sbuf_printf(&b, "  \"segments\": [\n"));
    for (int s = 0; s < m->nseg; s++) {
        const gen_segdef *sd = &gen_segdefs[s];
        const int64_t *sc = c + GC_SEG_BASE + s * GC_SEG_STRIDE;
        double n = sc[GS_COUNT] > 0 ? (double)sc[GS_COUNT] : 1.0;
        TRIBE_TRY(tribe_sbuf_printf(&b,
                          "    {\"id\": %d, \"name\": \"%s\", \"share\": %.6g, \"count\": %lld,\n"
                          "     \"recency_days\": {\"median\": %g, \"sigma\": %g, \"min\": %d, \"max\": %d},\n"
                          "     \"span_days\": {\"median\": %g, \"sigma\": %g, \"tenure_max\": %d},\n"
                          "     \"invoices_mean\": %g, \"lines_per_invoice_mean\": %g, \"basket_scale\": %g, "
                          "\"p_foreign\": %g,\n",
                          s, sd->name, sd->share / share_tot, (long long)sc[GS_COUNT], sd->rec_median,
                          sd->rec_sigma, sd->rec_min, sd->rec_max, sd->span_median, sd->span_sigma,
                          sd->tenure_max, sd->invoices_mean, sd->lines_mean, sd->basket_scale,
                          sd->p_foreign));
        TRIBE_TRY(tribe_sbuf_printf(&b, "     \"web\": {\"p_no_sessions\": %g, \"sessions_mean\": %g, \"pages_mean\": %g, "
                              "\"minutes_per_page\": %g, ",
                          sd->p_no_web, sd->sessions_mean, sd->pages_mean, sd->minutes_per_page));
        TRIBE_TRY(append_mix(&b, "device", sd->device, gen_device_names, GEN_NDEV, "},\n"));
        TRIBE_TRY(tribe_sbuf_printf(&b, "     \"demographics\": {\"age_mean\": %g, \"age_sd\": %g, ", sd->age_mean, sd->age_sd));
        TRIBE_TRY(append_mix(&b, "occupation", sd->occupation, gen_occupation_names, GEN_NOCC, ", "));
        TRIBE_TRY(append_mix(&b, "subscription", sd->subscription, gen_subscription_names, GEN_NSUB, "},\n"));
        TRIBE_TRY(tribe_sbuf_printf(&b,
                          "     \"realised\": {\"mean_recency_days\": %.4f, \"mean_frequency\": %.4f, "
                          "\"mean_monetary\": %.4f, \"mean_sessions\": %.4f}}%s\n",
                          ((double)sc[GS_RECENCY] + (double)gap * (double)sc[GS_COUNT]) / n,
                          (double)sc[GS_FREQUENCY] / n, (double)sc[GS_CENTS] / 100.0 / n,
                          (double)sc[GS_SESSIONS] / n, s + 1 < m->nseg ? "," : ""));
    }
    TRIBE_TRY(tribe_sbuf_printf(&b, "  ],\n"));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"dirt\": {\"missing_customer_id\": %lld, \"cancellations\": %lld, "
                      "\"nonpositive_quantity\": %lld, \"nonpositive_price\": %lld, \"duplicates\": %lld, "
                      "\"malformed\": %lld},\n",
                      (long long)c[GC_MISSING_ID], (long long)c[GC_CANCEL], (long long)c[GC_NONPOS_QTY],
                      (long long)c[GC_NONPOS_PRICE], (long long)c[GC_DUP], (long long)c[GC_MALFORMED]));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"dirt_probabilities\": {\"guest_invoice\": %g, \"cancellation\": %g, "
                      "\"bad_quantity\": %g, \"zero_price\": %g, \"adjustment\": %g, \"duplicate\": %g, "
                      "\"malformed\": %g, \"web_unmatched\": %g, \"web_malformed\": %g, "
                      "\"demo_duplicate\": %g, \"demo_unmatched\": %g, \"demo_malformed\": %g, "
                      "\"missing_age\": %g},\n",
                      p->guest_invoice, p->cancellation, p->bad_quantity, p->zero_price, p->adjustment,
                      p->duplicate, p->malformed, p->web_unmatched, p->web_malformed, p->demo_duplicate,
                      p->demo_unmatched, p->demo_malformed, p->missing_age));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"transaction_rows\": %lld,\n  \"kept_transaction_rows\": %lld,\n"
                      "  \"kept_invoices\": %lld,\n  \"kept_monetary\": %s,\n"
                      "  \"kept_distinct_products_sum\": %lld,\n  \"last_kept_invoice_date\": \"%s\",\n",
                      (long long)c[GC_TX_ROWS], (long long)c[GC_KEPT_ROWS], (long long)c[GC_KEPT_INVOICES],
                      money(c[GC_KEPT_CENTS], mbuf, sizeof mbuf), (long long)c[GC_DISTINCT_PRODUCTS], day));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"web_rows\": %lld,\n  \"web_sessions_matched\": %lld,\n"
                      "  \"customers_with_sessions\": %lld,\n"
                      "  \"web_dirt\": {\"malformed\": %lld, \"web_rows_unmatched\": %lld},\n",
                      (long long)c[GC_WEB_ROWS], (long long)c[GC_WEB_SESSIONS],
                      (long long)c[GC_WEB_CUSTOMERS], (long long)c[GC_WEB_MALFORMED],
                      (long long)c[GC_WEB_UNMATCHED]));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"demographic_rows\": %lld,\n"
                      "  \"demographics_dirt\": {\"malformed\": %lld, \"demographics_duplicate_ids\": %lld, "
                      "\"demographics_rows_unmatched\": %lld, \"missing_age\": %lld},\n",
                      (long long)c[GC_DEMO_ROWS], (long long)c[GC_DEMO_MALFORMED], (long long)c[GC_DEMO_DUP],
                      (long long)c[GC_DEMO_UNMATCHED], (long long)c[GC_DEMO_MISSING_AGE]));
    TRIBE_TRY(tribe_sbuf_printf(&b,
                      "  \"contacts\": {\"contact_rows\": %lld, \"contacts_without_email\": %lld, "
                      "\"contacts_without_phone\": %lld, \"contacts_email_opted_out\": %lld, "
                      "\"contacts_sms_opted_out\": %lld},\n",
                      (long long)c[GC_CONTACT_ROWS], (long long)c[GC_CONTACT_NO_EMAIL],
                      (long long)c[GC_CONTACT_NO_PHONE], (long long)c[GC_CONTACT_EMAIL_OPTOUT],
                      (long long)c[GC_CONTACT_SMS_OPTOUT]));
    TRIBE_TRY(reviews_json(m, c, &b));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/truth.json", outdir));
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* ---- the driver ---------------------------------------------------------- */

/* One tribe_gen run: the plan (which files, their names, paths and header
 * bytes), the per-thread workers, and where the next chunk of each file goes. */
typedef struct {
    gen_model *m;
    gen_worker *w;            /* [nthreads] */
    int nthreads, parts_made; /* parts_made: rank 0 created a .part file */
    int64_t n, chunk, nchunks;
    int64_t *inv0;            /* [chunk + 1]: first invoice number of each customer of a chunk */
    int64_t *gathered;        /* [size * (GEN_NFILES + 1)]: one gather's values, rank order */
    tribe_sbuf cat, gz;       /* a chunk's bytes before and after compression */
    int fd[GEN_NFILES];
    int enabled[GEN_NFILES];
    char name[GEN_NFILES][64], final[GEN_NFILES][GEN_PATH_MAX], part[GEN_NFILES][GEN_PATH_MAX];
    tribe_sbuf hdr[GEN_NFILES];  /* the header line, gzipped when the file is */
    int64_t offset[GEN_NFILES];  /* where the next round's chunks start */
    int64_t invoice_next;        /* the next round's first invoice number */
} gen_run;

/* Local set-up, identical on every rank: the model, the workers and buffers,
 * the file names, paths and header bytes. Not collective (the caller agrees).
 * Errors: USAGE (no outdir), NOMEM, IO (a path too long) or the model's own;
 * g is always safe to pass to gen_run_free afterwards. */
static tribe_status gen_setup(const tribe_gen_cfg *cfg, const char *outdir, int size, gen_run *g)
{
    tribe_status st = TRIBE_OK;
    memset(g, 0, sizeof *g);
    for (int f = 0; f < GEN_NFILES; f++) {
        g->fd[f] = -1;
        g->enabled[f] = f == GEN_TX || f == GEN_TRUTH || f == GEN_CONTACTS;
    }
    g->nthreads = omp_get_max_threads();
    g->invoice_next = GEN_INVOICE_BASE;
    g->n = cfg->customers;
    g->chunk = chunk_customers(g->n < 1 ? 1 : g->n);
    g->nchunks = (g->n + g->chunk - 1) / g->chunk;
    if (!outdir || !*outdir)
        TRIBE_TRY(tribe_fail(TRIBE_ERR_USAGE, "gen: no output directory given"));
    TRIBE_TRY(tribe_calloc((void **)&g->m, 1, sizeof *g->m));
    TRIBE_TRY(gen_model_init(g->m, cfg));
    TRIBE_TRY(tribe_calloc((void **)&g->w, (size_t)g->nthreads, sizeof *g->w));
    TRIBE_TRY(tribe_calloc((void **)&g->inv0, (size_t)g->chunk + 1, sizeof *g->inv0));
    TRIBE_TRY(tribe_calloc((void **)&g->gathered, (size_t)size * (GEN_NFILES + 1), sizeof *g->gathered));
    g->enabled[GEN_WEB] = g->m->web;
    g->enabled[GEN_DEMO] = g->m->demo;
    g->enabled[GEN_REVIEWS] = g->m->reviews;
    for (int f = 0; f < GEN_NFILES; f++) {
        const int z = cfg->gzip && f != GEN_TRUTH && f != GEN_CONTACTS;
        const char *header = file_header[g->m->layout][f];
        const size_t hl = strlen(header);
        snprintf(g->name[f], sizeof g->name[f], "%s%s", file_base[g->m->layout][f], z ? ".gz" : "");
        TRIBE_TRY(tribe_fmt(g->final[f], sizeof g->final[f], "%s/%s", outdir, g->name[f]));
        TRIBE_TRY(tribe_fmt(g->part[f], sizeof g->part[f], "%s/%s.part", outdir, g->name[f]));
        if (z)
            TRIBE_TRY(gz_member(header, hl, &g->hdr[f]));
        else
            TRIBE_TRY(tribe_sbuf_addn(&g->hdr[f], header, hl));
        g->offset[f] = (int64_t)g->hdr[f].len;
    }
    for (int k = 0; k < g->nthreads; k++)
        g->w[k].last_day = INT64_MIN;
cleanup:
    return st;
}

/* Rank 0 only: makes the folder and the .part files with their headers.
 * Stale files this run would not rewrite (a disabled source, the other
 * compression, the other layout) are removed so a reader never mixes two
 * runs. Not collective.
 * Errors: IO naming the path (g->parts_made says whether a .part exists). */
static tribe_status gen_make_parts(gen_run *g, const char *outdir)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_mkdirs(outdir));
    for (int f = 0; f < GEN_NFILES; f++) {
        char stale[GEN_PATH_MAX];
        for (int z = 0; z < 4; z++) {
            TRIBE_TRY(tribe_fmt(stale, sizeof stale, "%s/%s%s", outdir, file_base[z / 2][f], z % 2 ? ".gz" : ""));
            if ((strcmp(stale, g->final[f]) != 0 || !g->enabled[f]) && unlink(stale) != 0 && errno != ENOENT)
                TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot remove a stale file", stale));
        }
        if (!g->enabled[f])
            continue;
        int h = open(g->part[f], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (h < 0)
            TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create", g->part[f]));
        g->parts_made = 1;
        st = pwrite_all(h, g->hdr[f].p, g->hdr[f].len, 0, g->part[f]);
        if (close(h) != 0 && st == TRIBE_OK)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", g->part[f]);
        TRIBE_TRY(st);
    }
cleanup:
    return st;
}

/* Every rank opens the .part files rank 0 made. Not collective.
 * Errors: IO naming the path (files opened so far stay in g->fd). */
static tribe_status gen_open_parts(gen_run *g)
{
    tribe_status st = TRIBE_OK;
    for (int f = 0; f < GEN_NFILES; f++)
        if (g->enabled[f] && (g->fd[f] = open(g->part[f], O_WRONLY)) < 0)
            TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open for writing", g->part[f]));
cleanup:
    return st;
}

/* Collective: the invoice numbers of this rank's chunk (customers lo .. lo +
 * nc): counts them, gathers every chunk's count (mine[0]) and fills
 * g->inv0[0 .. nc] with each customer's first number; advances
 * g->invoice_next past the whole round. Errors: those of the gather. */
static tribe_status chunk_invoices(tribe_par *par, gen_run *g, int64_t lo, int64_t nc, int64_t *mine)
{
    tribe_status st = TRIBE_OK;
    const int rank = tribe_par_rank(par), size = tribe_par_size(par);
    int64_t *inv0 = g->inv0;
#pragma omp parallel for schedule(static) if (nc >= gen_omp_min)
    for (int64_t k = 0; k < nc; k++)
        inv0[k + 1] = gen_invoice_count(g->m, lo + k);
    for (int64_t k = 0; k < nc; k++)
        mine[0] += inv0[k + 1];
    TRIBE_TRY(gather_i64(par, mine, 1, g->gathered));
    inv0[0] = g->invoice_next;
    for (int r = 0; r < size; r++) {
        if (r < rank)
            inv0[0] += g->gathered[r];
        g->invoice_next += g->gathered[r];
    }
    for (int64_t k = 0; k < nc; k++)
        inv0[k + 1] += inv0[k];
cleanup:
    return st;
}

/* Generates customers lo .. lo + nc into the workers' buffers: thread k takes
 * a contiguous sub-range. Not collective. Errors: the first failed thread's
 * status, its message made this thread's. */
static tribe_status chunk_generate(gen_run *g, int64_t lo, int64_t nc)
{
    for (int k = 0; k < g->nthreads; k++)
        for (int f = 0; f < GEN_NFILES; f++)
            g->w[k].out[f].len = 0;
#pragma omp parallel num_threads(g->nthreads) if (nc >= gen_omp_min)
    {
        const int k = omp_get_thread_num(), nt = omp_get_num_threads();
        const int64_t a = nc * k / nt, b = nc * (k + 1) / nt;
        gen_worker *wk = &g->w[k];
        for (int64_t j = a; j < b && wk->st == TRIBE_OK; j++) {
            wk->st = gen_customer(g->m, lo + j, g->inv0[j], wk->out, wk->cnt, &wk->last_day);
            if (wk->st != TRIBE_OK)
                snprintf(wk->msg, sizeof wk->msg, "%s", tribe_errmsg());
        }
    }
    for (int k = 0; k < g->nthreads; k++)
        if (g->w[k].st != TRIBE_OK) {
            tribe_set_errmsg(g->w[k].msg);
            return g->w[k].st;
        }
    return TRIBE_OK;
}

/* The byte count of each enabled file's part of the chunk, into mine[1 + f];
 * with gzip the chunk becomes one member, compressed from the contiguous
 * chunk bytes so it does not depend on the thread split, and moved into
 * thread 0's buffer. Not collective. Errors: NOMEM or zlib's (mine is then
 * partly filled: the caller zeroes it). */
static tribe_status chunk_pack(const tribe_gen_cfg *cfg, gen_run *g, int64_t *mine)
{
    tribe_status st = TRIBE_OK;
    gen_worker *w = g->w;
    for (int f = 0; f < GEN_NFILES; f++) {
        if (!g->enabled[f])
            continue;
        size_t bytes = 0;
        for (int k = 0; k < g->nthreads; k++)
            bytes += w[k].out[f].len;
        if (f != GEN_TRUTH && f != GEN_CONTACTS && cfg->gzip && bytes > 0) {
            g->cat.len = 0;
            TRIBE_TRY(tribe_sbuf_reserve(&g->cat, bytes));
            for (int k = 0; k < g->nthreads; k++) {
                if (w[k].out[f].len == 0) /* an idle thread may have no buffer yet */
                    continue;
                memcpy(g->cat.p + g->cat.len, w[k].out[f].p, w[k].out[f].len);
                g->cat.len += w[k].out[f].len;
            }
            TRIBE_TRY(gz_member(g->cat.p, g->cat.len, &g->gz));
            /* the member takes thread 0's slot; the old buffer becomes gz's */
            tribe_sbuf tmp = w[0].out[f];
            w[0].out[f] = g->gz;
            g->gz = tmp;
            for (int k = 1; k < g->nthreads; k++)
                w[k].out[f].len = 0;
            bytes = w[0].out[f].len;
        }
        mine[1 + f] = (int64_t)bytes;
    }
cleanup:
    return st;
}

/* Collective: gathers every chunk's byte counts (mine[1 ..]), then pwrites
 * this rank's part of each file at its offset (the threads' buffers in
 * order) unless *lst already holds a failure, and moves g->offset past the
 * round. Returns the gather's status; a write failure goes to *lst. */
static tribe_status chunk_write(tribe_par *par, gen_run *g, const int64_t *mine, tribe_status *lst)
{
    tribe_status st = TRIBE_OK;
    const int rank = tribe_par_rank(par), size = tribe_par_size(par);
    TRIBE_TRY(gather_i64(par, mine, GEN_NFILES + 1, g->gathered));
    for (int f = 0; f < GEN_NFILES; f++) {
        int64_t at = g->offset[f];
        for (int r = 0; r < size; r++) {
            const int64_t bytes = g->gathered[r * (GEN_NFILES + 1) + 1 + f];
            if (r < rank)
                at += bytes;
            g->offset[f] += bytes;
        }
        for (int k = 0; k < g->nthreads && *lst == TRIBE_OK && g->enabled[f]; k++) {
            *lst = pwrite_all(g->fd[f], g->w[k].out[f].p, g->w[k].out[f].len, at, g->part[f]);
            at += (int64_t)g->w[k].out[f].len;
        }
    }
cleanup:
    return st;
}

/* Collective: round t, in which this rank generates and writes chunk
 * t * size + rank (nothing past the last chunk). *lst is this rank's own
 * failure (generation, compression, write): it is carried to the caller's
 * next agreement, so the collectives of the round still line up (a failed
 * rank contributes no bytes). Returns the status of the collective calls. */
static tribe_status gen_round(tribe_par *par, const tribe_gen_cfg *cfg, gen_run *g, int64_t t,
                              tribe_status *lst)
{
    tribe_status st = TRIBE_OK;
    const int64_t c = t * tribe_par_size(par) + tribe_par_rank(par);
    const int64_t lo = c < g->nchunks ? c * g->chunk : 0;
    const int64_t hi = c < g->nchunks ? (lo + g->chunk < g->n ? lo + g->chunk : g->n) : 0;
    int64_t mine[GEN_NFILES + 1] = {0};
    TRIBE_TRY(chunk_invoices(par, g, lo, hi - lo, mine));
    *lst = chunk_generate(g, lo, hi - lo);
    if (*lst == TRIBE_OK)
        *lst = chunk_pack(cfg, g, mine);
    if (*lst != TRIBE_OK)
        for (int f = 0; f < GEN_NFILES; f++)
            mine[1 + f] = 0;
    TRIBE_TRY(chunk_write(par, g, mine, lst));
cleanup:
    return st;
}

/* Collective: closes this rank's files and reduces the workers' counters
 * over threads and ranks into cnt[GC_N] and *last_day. Errors: IO (a close
 * failed on some rank), agreed; or those of the reductions. */
static tribe_status gen_close_and_count(tribe_par *par, gen_run *g, int64_t *cnt, int64_t *last_day)
{
    tribe_status st = TRIBE_OK;
    for (int f = 0; f < GEN_NFILES; f++) {
        if (g->fd[f] >= 0 && close(g->fd[f]) != 0 && st == TRIBE_OK)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", g->part[f]);
        g->fd[f] = -1;
    }
    for (int k = 0; k < g->nthreads; k++) {
        for (int j = 0; j < GC_N; j++)
            cnt[j] += g->w[k].cnt[j];
        if (g->w[k].last_day > *last_day)
            *last_day = g->w[k].last_day;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, GC_N));
    TRIBE_TRY(tribe_par_max_i64(par, last_day, 1));
cleanup:
    return st;
}

/* Rank 0 only: renames the .part files into place and writes truth.json.
 * Not collective. Errors: IO naming the file, or NOMEM. */
static tribe_status gen_publish(const tribe_gen_cfg *cfg, const char *outdir, const gen_run *g,
                                const int64_t *cnt, int64_t last_day)
{
    tribe_status st = TRIBE_OK;
    const char *names[GEN_NFILES];
    for (int f = 0; f < GEN_NFILES; f++) {
        names[f] = g->name[f];
        if (g->enabled[f] && rename(g->part[f], g->final[f]) != 0)
            TRIBE_TRY(tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot rename into place", g->final[f]));
    }
    TRIBE_TRY(write_truth_json(g->m, cfg, outdir, names, g->enabled, cnt, last_day,
                               g->invoice_next - GEN_INVOICE_BASE));
cleanup:
    return st;
}

/* Closes what is still open and frees g. After a failure rank 0 removes the
 * .part files it made (the others have closed them by now or failed). */
static void gen_run_free(gen_run *g, tribe_status st, int rank)
{
    for (int f = 0; f < GEN_NFILES; f++)
        if (g->fd[f] >= 0)
            close(g->fd[f]);
    if (st != TRIBE_OK && rank == 0 && g->parts_made)
        for (int f = 0; f < GEN_NFILES; f++)
            if (g->enabled[f])
                unlink(g->part[f]);
    if (g->w)
        for (int k = 0; k < g->nthreads; k++)
            for (int f = 0; f < GEN_NFILES; f++)
                tribe_sbuf_free(&g->w[k].out[f]);
    for (int f = 0; f < GEN_NFILES; f++)
        tribe_sbuf_free(&g->hdr[f]);
    free(g->w);
    free(g->inv0);
    free(g->gathered);
    tribe_sbuf_free(&g->cat);
    tribe_sbuf_free(&g->gz);
    free(g->m);
}

tribe_status tribe_gen(tribe_par *par, const tribe_gen_cfg *cfg, const char *outdir)
{
    tribe_status st = TRIBE_OK, lst = TRIBE_OK;
    const int rank = tribe_par_rank(par), size = tribe_par_size(par);
    gen_run g;
    int64_t cnt[GC_N] = {0}, last_day = INT64_MIN;
    double t0 = tribe_now();

    st = gen_setup(cfg, outdir, size, &g);
    TRIBE_TRY(tribe_par_agree(par, st));
    /* rank 0 makes the .part files; the others open them once they exist */
    if (rank == 0)
        st = gen_make_parts(&g, outdir);
    TRIBE_TRY(tribe_par_agree(par, st));
    st = gen_open_parts(&g);
    TRIBE_TRY(tribe_par_agree(par, st));

    const int64_t rounds = (g.nchunks + size - 1) / size;
    for (int64_t t = 0; t < rounds; t++) {
        TRIBE_TRY(tribe_par_agree(par, lst));
        TRIBE_TRY(gen_round(par, cfg, &g, t, &lst));
    }
    TRIBE_TRY(tribe_par_agree(par, lst));
    TRIBE_TRY(gen_close_and_count(par, &g, cnt, &last_day));

    if (rank == 0) {
        st = gen_publish(cfg, outdir, &g, cnt, last_day);
        if (st == TRIBE_OK)
            TRIBE_INFO("gen: %lld customers, %lld transaction rows, %lld web rows in %.2f s on %d rank(s) -> %s",
                       (long long)g.n, (long long)cnt[GC_TX_ROWS], (long long)cnt[GC_WEB_ROWS],
                       tribe_now() - t0, size, outdir);
    }
    TRIBE_TRY(tribe_par_agree(par, st));
cleanup:
    gen_run_free(&g, st, rank);
    return st;
}
