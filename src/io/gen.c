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

static const char *const file_base[GEN_NFILES] = {"transactions.csv", "web_events.csv",
                                                  "demographics.csv", "truth.csv", "contacts.csv"};
static const char *const file_header[GEN_NFILES] = {
    "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n",
    "CustomerID,SessionStart,PagesViewed,MinutesOnSite,Device\n",
    "CustomerID,Age,Country,Occupation,Subscription\n",
    "customer_id,segment\n",
    "CustomerID,Email,Phone,EmailOptIn,SmsOptIn\n"};

void tribe_gen_defaults(tribe_gen_cfg *cfg)
{
    cfg->customers = 1000;
    cfg->seed = 42;
    cfg->segments = 6;
    cfg->web = 1;
    cfg->demographics = 1;
    cfg->dirt = 1.0;
    cfg->end_date = "2011-12-09";
    cfg->gzip = 0;
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
    TRIBE_TRY(tribe_sbuf_printf(&b, "  \"files\": {"));
    static const char *const keys[GEN_NFILES] = {"transactions", "web_events", "demographics", "truth", "contacts"};
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
                      "\"contacts_sms_opted_out\": %lld}\n}\n",
                      (long long)c[GC_CONTACT_ROWS], (long long)c[GC_CONTACT_NO_EMAIL],
                      (long long)c[GC_CONTACT_NO_PHONE], (long long)c[GC_CONTACT_EMAIL_OPTOUT],
                      (long long)c[GC_CONTACT_SMS_OPTOUT]));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/truth.json", outdir));
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* ---- the driver ---------------------------------------------------------- */
tribe_status tribe_gen(tribe_par *par, const tribe_gen_cfg *cfg, const char *outdir)
{
    tribe_status st = TRIBE_OK;
    const int rank = tribe_par_rank(par), size = tribe_par_size(par);
    gen_model *m = NULL;
    gen_worker *w = NULL;
    int64_t *inv0 = NULL, *gathered = NULL;
    tribe_sbuf cat = {0}, gz = {0};
    int fd[GEN_NFILES] = {-1, -1, -1, -1, -1};
    int enabled[GEN_NFILES] = {1, 0, 0, 1, 1};
    char name[GEN_NFILES][64], final[GEN_NFILES][GEN_PATH_MAX], part[GEN_NFILES][GEN_PATH_MAX];
    tribe_sbuf hdr[GEN_NFILES] = {{0}};
    int64_t cnt[GC_N] = {0}, last_day = INT64_MIN, invoice_next = GEN_INVOICE_BASE;
    int nthreads = omp_get_max_threads(), parts_made = 0;
    double t0 = tribe_now();

    /* Local set-up, identical on every rank, then one agreement. */
    if (!outdir || !*outdir)
        st = tribe_fail(TRIBE_ERR_USAGE, "gen: no output directory given");
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&m, 1, sizeof *m);
    if (st == TRIBE_OK)
        st = gen_model_init(m, cfg);
    const int64_t n = cfg->customers, chunk = chunk_customers(n < 1 ? 1 : n);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&w, (size_t)nthreads, sizeof *w);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&inv0, (size_t)chunk + 1, sizeof *inv0);
    if (st == TRIBE_OK)
        st = tribe_calloc((void **)&gathered, (size_t)size * (GEN_NFILES + 1), sizeof *gathered);
    if (st == TRIBE_OK) {
        enabled[GEN_WEB] = m->web;
        enabled[GEN_DEMO] = m->demo;
    }
    for (int f = 0; f < GEN_NFILES && st == TRIBE_OK; f++) {
        const int z = cfg->gzip && f != GEN_TRUTH && f != GEN_CONTACTS;
        snprintf(name[f], sizeof name[f], "%s%s", file_base[f], z ? ".gz" : "");
        st = tribe_fmt(final[f], sizeof final[f], "%s/%s", outdir, name[f]);
        if (st == TRIBE_OK)
            st = tribe_fmt(part[f], sizeof part[f], "%s/%s.part", outdir, name[f]);
        size_t hl = strlen(file_header[f]);
        if (st == TRIBE_OK && z)
            st = gz_member(file_header[f], hl, &hdr[f]);
        else if (st == TRIBE_OK)
            st = tribe_sbuf_addn(&hdr[f], file_header[f], hl);
    }
    TRIBE_TRY(tribe_par_agree(par, st));

    /* Rank 0 makes the folder and the .part files with their headers; the
     * others open them once they exist. Stale files this run would not
     * rewrite (a disabled source, the other compression) are removed so a
     * reader never mixes two runs. */
    if (rank == 0) {
        st = tribe_mkdirs(outdir);
        for (int f = 0; f < GEN_NFILES && st == TRIBE_OK; f++) {
            char stale[GEN_PATH_MAX];
            for (int z = 0; z < 2 && st == TRIBE_OK; z++) {
                st = tribe_fmt(stale, sizeof stale, "%s/%s%s", outdir, file_base[f], z ? ".gz" : "");
                if (st == TRIBE_OK && (strcmp(stale, final[f]) != 0 || !enabled[f]) && unlink(stale) != 0 &&
                    errno != ENOENT)
                    st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot remove a stale file", stale);
            }
            if (st != TRIBE_OK || !enabled[f])
                continue;
            int h = open(part[f], O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (h < 0) {
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot create", part[f]);
                break;
            }
            parts_made = 1;
            st = pwrite_all(h, hdr[f].p, hdr[f].len, 0, part[f]);
            if (close(h) != 0 && st == TRIBE_OK)
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", part[f]);
        }
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    for (int f = 0; f < GEN_NFILES && st == TRIBE_OK; f++)
        if (enabled[f] && (fd[f] = open(part[f], O_WRONLY)) < 0)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot open for writing", part[f]);
    TRIBE_TRY(tribe_par_agree(par, st));

    for (int k = 0; k < nthreads; k++)
        w[k].last_day = INT64_MIN;
    int64_t offset[GEN_NFILES];
    for (int f = 0; f < GEN_NFILES; f++)
        offset[f] = (int64_t)hdr[f].len;
    const int64_t nchunks = (n + chunk - 1) / chunk, rounds = (nchunks + size - 1) / size;

    /* lst: this rank's own failure (allocation, write). It is carried to the
     * next agreement, so collectives in the round still line up; st only
     * takes the results of collective calls. */
    tribe_status lst = TRIBE_OK;
    for (int64_t t = 0; t < rounds; t++) {
        TRIBE_TRY(tribe_par_agree(par, lst));
        const int64_t c = t * size + rank;
        const int64_t lo = c < nchunks ? c * chunk : 0, hi = c < nchunks ? (lo + chunk < n ? lo + chunk : n) : 0;
        const int64_t nc = hi - lo;

        /* 1. invoice numbers this chunk needs, then its first number */
#pragma omp parallel for schedule(static) if (nc >= gen_omp_min)
        for (int64_t k = 0; k < nc; k++)
            inv0[k + 1] = gen_invoice_count(m, lo + k);
        int64_t mine[GEN_NFILES + 1] = {0};
        for (int64_t k = 0; k < nc; k++)
            mine[0] += inv0[k + 1];
        TRIBE_TRY(gather_i64(par, mine, 1, gathered));
        inv0[0] = invoice_next;
        for (int r = 0; r < size; r++) {
            if (r < rank)
                inv0[0] += gathered[r];
            invoice_next += gathered[r];
        }
        for (int64_t k = 0; k < nc; k++)
            inv0[k + 1] += inv0[k];

        /* 2. generate: thread k takes a contiguous sub-range */
        for (int k = 0; k < nthreads; k++)
            for (int f = 0; f < GEN_NFILES; f++)
                w[k].out[f].len = 0;
#pragma omp parallel num_threads(nthreads) if (nc >= gen_omp_min)
        {
            const int k = omp_get_thread_num(), nt = omp_get_num_threads();
            const int64_t a = nc * k / nt, b = nc * (k + 1) / nt;
            gen_worker *wk = &w[k];
            for (int64_t j = a; j < b && wk->st == TRIBE_OK; j++) {
                wk->st = gen_customer(m, lo + j, inv0[j], wk->out, wk->cnt, &wk->last_day);
                if (wk->st != TRIBE_OK)
                    snprintf(wk->msg, sizeof wk->msg, "%s", tribe_errmsg());
            }
        }
        for (int k = 0; k < nthreads && lst == TRIBE_OK; k++)
            if (w[k].st != TRIBE_OK) {
                lst = w[k].st;
                tribe_set_errmsg(w[k].msg);
            }

        /* 3. sizes -> offsets (a failed rank contributes nothing and stops next round) */
        for (int f = 0; f < GEN_NFILES; f++) {
            if (!enabled[f] || lst != TRIBE_OK)
                continue;
            size_t bytes = 0;
            for (int k = 0; k < nthreads; k++)
                bytes += w[k].out[f].len;
            if (f != GEN_TRUTH && f != GEN_CONTACTS && cfg->gzip && bytes > 0) {
                /* one member per chunk, compressed from the contiguous chunk
                 * bytes so the member does not depend on the thread split */
                cat.len = 0;
                if ((lst = tribe_sbuf_reserve(&cat, bytes)) != TRIBE_OK)
                    break;
                for (int k = 0; k < nthreads; k++) {
                    if (w[k].out[f].len == 0) /* an idle thread may have no buffer yet */
                        continue;
                    memcpy(cat.p + cat.len, w[k].out[f].p, w[k].out[f].len);
                    cat.len += w[k].out[f].len;
                }
                if ((lst = gz_member(cat.p, cat.len, &gz)) != TRIBE_OK)
                    break;
                /* the member takes thread 0's slot; the old buffer becomes gz's */
                tribe_sbuf tmp = w[0].out[f];
                w[0].out[f] = gz;
                gz = tmp;
                for (int k = 1; k < nthreads; k++)
                    w[k].out[f].len = 0;
                bytes = w[0].out[f].len;
            }
            mine[1 + f] = (int64_t)bytes;
        }
        if (lst != TRIBE_OK)
            for (int f = 0; f < GEN_NFILES; f++)
                mine[1 + f] = 0;
        TRIBE_TRY(gather_i64(par, mine, GEN_NFILES + 1, gathered));
        for (int f = 0; f < GEN_NFILES; f++) {
            int64_t at = offset[f];
            for (int r = 0; r < size; r++) {
                const int64_t bytes = gathered[r * (GEN_NFILES + 1) + 1 + f];
                if (r < rank)
                    at += bytes;
                offset[f] += bytes;
            }
            /* 4. write this rank's part: the threads' buffers in order */
            for (int k = 0; k < nthreads && lst == TRIBE_OK && enabled[f]; k++) {
                lst = pwrite_all(fd[f], w[k].out[f].p, w[k].out[f].len, at, part[f]);
                at += (int64_t)w[k].out[f].len;
            }
        }
    }
    TRIBE_TRY(tribe_par_agree(par, lst));

    for (int f = 0; f < GEN_NFILES; f++) {
        if (fd[f] >= 0 && close(fd[f]) != 0 && st == TRIBE_OK)
            st = tribe_fail_errno(TRIBE_ERR_IO, "%s: close failed", part[f]);
        fd[f] = -1;
    }
    for (int k = 0; k < nthreads; k++) {
        for (int j = 0; j < GC_N; j++)
            cnt[j] += w[k].cnt[j];
        if (w[k].last_day > last_day)
            last_day = w[k].last_day;
    }
    TRIBE_TRY(tribe_par_agree(par, st));
    TRIBE_TRY(tribe_par_sum_i64(par, cnt, GC_N));
    TRIBE_TRY(tribe_par_max_i64(par, &last_day, 1));

    if (rank == 0) {
        for (int f = 0; f < GEN_NFILES && st == TRIBE_OK; f++)
            if (enabled[f] && rename(part[f], final[f]) != 0)
                st = tribe_fail_errno(TRIBE_ERR_IO, "%s: cannot rename into place", final[f]);
        if (st == TRIBE_OK) {
            const char *names[GEN_NFILES] = {name[0], name[1], name[2], name[3], name[4]};
            st = write_truth_json(m, cfg, outdir, names, enabled, cnt, last_day,
                                  invoice_next - GEN_INVOICE_BASE);
        }
        if (st == TRIBE_OK)
            TRIBE_INFO("gen: %lld customers, %lld transaction rows, %lld web rows in %.2f s on %d rank(s) -> %s",
                       (long long)n, (long long)cnt[GC_TX_ROWS], (long long)cnt[GC_WEB_ROWS],
                       tribe_now() - t0, size, outdir);
    }
    TRIBE_TRY(tribe_par_agree(par, st));

cleanup:
    for (int f = 0; f < GEN_NFILES; f++)
        if (fd[f] >= 0)
            close(fd[f]);
    /* A failed run leaves no .part behind (rank 0 made them; the others have closed by now or failed). */
    if (st != TRIBE_OK && rank == 0 && parts_made)
        for (int f = 0; f < GEN_NFILES; f++)
            if (enabled[f])
                unlink(part[f]);
    if (w)
        for (int k = 0; k < nthreads; k++)
            for (int f = 0; f < GEN_NFILES; f++)
                tribe_sbuf_free(&w[k].out[f]);
    for (int f = 0; f < GEN_NFILES; f++)
        tribe_sbuf_free(&hdr[f]);
    free(w);
    free(inv0);
    free(gathered);
    tribe_sbuf_free(&cat);
    tribe_sbuf_free(&gz);
    free(m);
    return st;
}
