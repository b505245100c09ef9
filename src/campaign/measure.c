/* tribe campaign measure's library (tribe/experiment.h, docs/experiments.md):
 * the arms from the outbox, each customer's spend in its window from the
 * transactions, the comparison per segment and overall, and the CSV. */
#include "tribe/csv.h"
#include "tribe/date.h"
#include "tribe/experiment.h"
#include "tribe/id.h"
#include "tribe/sbuf.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the outbox ------------------------------------------------------------ */

/* The JSON value after "key": in line (the outbox is written by send.c with
 * known keys in a known order, so a plain search is exact): a pointer to its
 * first byte, or NULL. */
static const char *json_at(const char *line, const char *key)
{
    char pat[48];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(line, pat);
    return p ? p + strlen(pat) : NULL;
}

static int json_i64(const char *line, const char *key, int64_t *v)
{
    const char *p = json_at(line, key);
    if (!p)
        return 0;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(p, &end, 10);
    if (end == p || errno || (*end != ',' && *end != '}'))
        return 0;
    *v = x;
    return 1;
}

/* The JSON string after "key": decoded into out[cap] (escapes \" \\ \/ \b
 * \f \n \r \t and \uXXXX of the Basic Multilingual Plane): 1, or 0 when it is
 * not a string or does not fit. *raw_end gets the byte after its quote. */
static int json_str(const char *line, const char *key, char *out, size_t cap, const char **raw_end)
{
    const char *p = json_at(line, key);
    size_t n = 0;
    if (!p || *p != '"')
        return 0;
    for (p++; *p && *p != '"'; p++) {
        unsigned c = (unsigned char)*p;
        char buf[4];
        size_t k = 1;
        if (c == '\\') {
            p++;
            switch (*p) {
            case '"': case '\\': case '/': buf[0] = *p; break;
            case 'b': buf[0] = '\b'; break;
            case 'f': buf[0] = '\f'; break;
            case 'n': buf[0] = '\n'; break;
            case 'r': buf[0] = '\r'; break;
            case 't': buf[0] = '\t'; break;
            case 'u': {
                unsigned u = 0;
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10
                                                         : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                    if (d < 0)
                        return 0;
                    u = u << 4 | (unsigned)d;
                }
                p += 4;
                if (u < 0x80)
                    buf[0] = (char)u;
                else if (u < 0x800) {
                    buf[0] = (char)(0xc0 | u >> 6), buf[1] = (char)(0x80 | (u & 0x3f)), k = 2;
                } else {
                    buf[0] = (char)(0xe0 | u >> 12), buf[1] = (char)(0x80 | ((u >> 6) & 0x3f));
                    buf[2] = (char)(0x80 | (u & 0x3f)), k = 3;
                }
                break;
            }
            default: return 0;
            }
        } else
            buf[0] = (char)c;
        if (n + k >= cap)
            return 0;
        memcpy(out + n, buf, k);
        n += k;
    }
    if (*p != '"')
        return 0;
    out[n] = '\0';
    if (raw_end)
        *raw_end = p + 1;
    return 1;
}

static int cmp_unit(const void *a, const void *b)
{
    const tribe_exp_unit *x = a, *y = b;
    return (x->id > y->id) - (x->id < y->id);
}

int64_t tribe_exp_find(const tribe_exp_assign *a, int64_t id)
{
    int64_t lo = 0, hi = a->n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a->u[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < a->n && a->u[lo].id == id ? lo : -1;
}

void tribe_exp_assign_free(tribe_exp_assign *a)
{
    if (!a)
        return;
    for (int64_t i = 0; a->u && i < a->n; i++)
        free(a->u[i].text);
    free(a->u);
    free(a->campaign);
    memset(a, 0, sizeof *a);
}

/* One parsed outbox line. */
typedef struct {
    int64_t ts, customer, segment;
    char campaign[1024], status[16], id_text[TRIBE_ID_BUF];
    int has_text;
} ob_line;

static tribe_status parse_line(const char *path, int64_t ln, const char *line, ob_line *o)
{
    static const char *const need[] = {"ts", "segment", "customer"};
    int64_t *dst[] = {&o->ts, &o->segment, &o->customer};
    for (int i = 0; i < 3; i++)
        if (!json_i64(line, need[i], dst[i]))
            return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: key '%s' is missing or not an integer", path, (long long)ln,
                              need[i]);
    if (!json_str(line, "campaign", o->campaign, sizeof o->campaign, NULL))
        return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: key 'campaign' is missing or not a string", path, (long long)ln);
    if (!json_str(line, "status", o->status, sizeof o->status, NULL))
        return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: key 'status' is missing or not a string", path, (long long)ln);
    o->has_text = json_at(line, "customer_id") != NULL;
    if (o->has_text && !json_str(line, "customer_id", o->id_text, sizeof o->id_text, NULL))
        return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: key 'customer_id' is not a string id", path, (long long)ln);
    return TRIBE_OK;
}

/* Campaign names of the file, for the message of a missing or ambiguous
 * campaign ("'a', 'b'", cut at cap). */
static void add_name(char *names, size_t cap, int *count, const char *c)
{
    char q[1100];
    snprintf(q, sizeof q, "'%s'", c);
    if (strstr(names, q))
        return;
    size_t at = strlen(names);
    if (at + strlen(q) + 3 < cap)
        snprintf(names + at, cap - at, "%s%s", at ? ", " : "", q);
    (*count)++;
}

/* Appends the customer of line o in arm (duplicates are merged by dedupe
 * once the units are sorted). */
static tribe_status put_unit(const ob_line *o, int arm, tribe_exp_assign *a, int64_t *cap)
{
    tribe_status st = TRIBE_OK;
    if (a->n == *cap) {
        *cap = *cap ? 2 * *cap : 1024;
        TRIBE_TRY(tribe_realloc((void **)&a->u, (size_t)*cap * sizeof *a->u));
    }
    tribe_exp_unit *u = &a->u[a->n];
    memset(u, 0, sizeof *u);
    u->id = o->customer;
    u->segment = o->segment;
    u->arm = arm;
    /* floor: a day starts at 00:00 UTC */
    u->day = o->ts >= 0 ? o->ts / 86400 : -((-o->ts + 86399) / 86400);
    if (o->has_text)
        TRIBE_TRY(tribe_strdup(o->id_text, &u->text));
    a->n++;
cleanup:
    return st;
}

/* After sorting: one unit per customer (the earliest line kept); a customer
 * in both arms or two segments is an error naming the customer. */
static tribe_status dedupe(const char *path, tribe_exp_assign *a)
{
    int64_t w = 0;
    for (int64_t i = 0; i < a->n; i++) {
        if (w > 0 && a->u[w - 1].id == a->u[i].id) {
            tribe_exp_unit *k = &a->u[w - 1], *u = &a->u[i];
            char id[TRIBE_ID_BUF];
            tribe_id_format(u->text, u->id, id);
            if (k->arm != u->arm || k->segment != u->segment)
                return tribe_fail(TRIBE_ERR_INPUT,
                                  "%s: customer %s of campaign '%s' is in %s (segment %lld) and in %s (segment "
                                  "%lld): were two sends made with different --holdout shares?",
                                  path, id, a->campaign, k->arm ? "treatment" : "control", (long long)k->segment,
                                  u->arm ? "treatment" : "control", (long long)u->segment);
            if (u->day < k->day)
                k->day = u->day;
            free(u->text);
            u->text = NULL;
            continue;
        }
        a->u[w++] = a->u[i];
    }
    a->n = w;
    return TRIBE_OK;
}

/* Failed customers without a delivered line are counted; those delivered on
 * a later attempt are in the treatment (sorted ids of failures in f[nf]). */
static int64_t count_failed(const tribe_exp_assign *a, int64_t *f, int64_t nf)
{
    int64_t c = 0;
    for (int64_t i = 0; i < nf; i++)
        if ((i == 0 || f[i] != f[i - 1]) && tribe_exp_find(a, f[i]) < 0)
            c++;
    return c;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

tribe_status tribe_exp_outbox_read(const char *path, const char *campaign, tribe_exp_assign *a)
{
    tribe_status st = TRIBE_OK;
    char *text = NULL, names[2048] = "";
    int64_t cap = 0, *failed = NULL, nfailed = 0, fcap = 0, ln = 0;
    int ncampaigns = 0, arms[2] = {0, 0};
    ob_line *o = NULL;
    memset(a, 0, sizeof *a);
    TRIBE_TRY(tribe_calloc((void **)&o, 1, sizeof *o));
    TRIBE_TRY(tribe_read_file(path, &text, NULL));
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ln++;
        if (!*line)
            continue;
        TRIBE_TRY(parse_line(path, ln, line, o));
        add_name(names, sizeof names, &ncampaigns, o->campaign);
        if (!campaign && !a->campaign)
            TRIBE_TRY(tribe_strdup(o->campaign, &a->campaign));
        if (strcmp(o->campaign, campaign ? campaign : a->campaign) != 0)
            continue;
        a->lines++;
        a->string_ids |= o->has_text;
        if (strcmp(o->status, "holdout") == 0 || strcmp(o->status, "sent") == 0 ||
            strcmp(o->status, "dry_run") == 0) {
            int arm = o->status[0] == 'h' ? TRIBE_EXP_CONTROL : TRIBE_EXP_TREATMENT;
            a->dry_run |= o->status[0] == 'd';
            arms[arm] = 1;
            TRIBE_TRY(put_unit(o, arm, a, &cap));
        } else if (strcmp(o->status, "skipped") == 0)
            a->skipped++;
        else if (strcmp(o->status, "failed") == 0) {
            if (nfailed == fcap) {
                fcap = fcap ? 2 * fcap : 256;
                TRIBE_TRY(tribe_realloc((void **)&failed, (size_t)fcap * sizeof *failed));
            }
            failed[nfailed++] = o->customer;
        } else if (strcmp(o->status, "retry") != 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: key 'status' has the unknown value '%s'", path, (long long)ln,
                            o->status);
            goto cleanup;
        }
    }
    if (campaign) {
        free(a->campaign);
        a->campaign = NULL;
        TRIBE_TRY(tribe_strdup(campaign, &a->campaign));
    }
    if (a->lines == 0) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: no line of campaign '%s' (the outbox holds %s)", path,
                        a->campaign ? a->campaign : "", ncampaigns ? names : "no campaign");
        goto cleanup;
    }
    if (!campaign && ncampaigns > 1) {
        st = tribe_fail(TRIBE_ERR_USAGE, "%s holds %d campaigns (%s): name one with --campaign", path, ncampaigns,
                        names);
        goto cleanup;
    }
    if (!arms[TRIBE_EXP_CONTROL] || !arms[TRIBE_EXP_TREATMENT]) {
        st = tribe_fail(TRIBE_ERR_INPUT, "%s: campaign '%s' has no %s customer: %s", path, a->campaign,
                        arms[TRIBE_EXP_CONTROL] ? "treatment (sent)" : "control (holdout)",
                        arms[TRIBE_EXP_CONTROL] ? "it was sent to nobody (--holdout 1?)"
                                                : "send it with --holdout SHARE to keep a control group");
        goto cleanup;
    }
    qsort(a->u, (size_t)a->n, sizeof *a->u, cmp_unit);
    TRIBE_TRY(dedupe(path, a));
    if (nfailed)
        qsort(failed, (size_t)nfailed, sizeof *failed, cmp_i64);
    a->failed = count_failed(a, failed, nfailed);
cleanup:
    free(text);
    free(failed);
    free(o);
    if (st != TRIBE_OK)
        tribe_exp_assign_free(a);
    return st;
}

/* ---- the transactions ------------------------------------------------------ */

/* Columns of the transactions section the outcome needs (-1: absent). */
typedef struct {
    int id, date, qty, price, amount, order, flag;
    double qty_const;
    const tribe_map_source *s;
} tx_cols;

static tribe_status find_col(tribe_csv *c, const tribe_map_source *s, int role, int need, int *col)
{
    *col = -1;
    if (!s->column[role])
        return TRIBE_OK;
    *col = tribe_csv_column(c, s->column[role]);
    if (*col < 0 && need && !(s->optional & (1u << role)))
        return tribe_fail(TRIBE_ERR_INPUT, "%s: missing required column '%s' (%s)", tribe_csv_path(c), s->column[role],
                          tribe_mapping_role_name(TRIBE_MAP_TX, role));
    return TRIBE_OK;
}

static tribe_status tx_columns(tribe_csv *c, const tribe_map_source *s, tx_cols *k)
{
    tribe_status st = TRIBE_OK;
    k->s = s;
    k->qty_const = 1;
    TRIBE_TRY(find_col(c, s, TRIBE_TX_CUSTOMER_ID, 1, &k->id));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_DATE, 1, &k->date));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_AMOUNT, 1, &k->amount));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_QUANTITY, k->amount < 0, &k->qty));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_UNIT_PRICE, k->amount < 0, &k->price));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_ORDER_ID, 0, &k->order));
    TRIBE_TRY(find_col(c, s, TRIBE_TX_RETURN_FLAG, 0, &k->flag));
    if (k->qty < 0 && s->constant[TRIBE_TX_QUANTITY])
        k->qty_const = strtod(s->constant[TRIBE_TX_QUANTITY], NULL);
    if (k->id < 0 || k->date < 0)
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: the mapping names no customer id or date column", tribe_csv_path(c));
    else if (k->amount < 0 && k->price < 0)
        st = tribe_fail(TRIBE_ERR_USAGE, "%s: the mapping names neither an amount nor a unit price column",
                        tribe_csv_path(c));
cleanup:
    return st;
}

static tribe_status bad_cell(tribe_csv *c, const char *col, const char *cell, const char *what)
{
    return tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s '%.40s' %s", tribe_csv_path(c), (long long)tribe_csv_line(c), col,
                      cell, what);
}

/* The signed amount of the current row of an experiment customer. */
static tribe_status row_amount(tribe_csv *c, const tx_cols *k, double *amount)
{
    const tribe_map_source *s = k->s;
    size_t len;
    char code[4], sym[8];
    double v = 0, q = k->qty_const;
    if (k->amount >= 0) {
        const char *cell = tribe_csv_field(c, k->amount, &len);
        if (!tribe_money_parse(cell, len, s->decimal, &v, code, sym))
            return bad_cell(c, s->column[TRIBE_TX_AMOUNT], cell, "is not an amount");
    } else {
        const char *cell = tribe_csv_field(c, k->price, &len);
        if (!tribe_money_parse(cell, len, s->decimal, &v, code, sym))
            return bad_cell(c, s->column[TRIBE_TX_UNIT_PRICE], cell, "is not a price");
        if (k->qty >= 0) {
            cell = tribe_csv_field(c, k->qty, &len);
            char *end = NULL;
            q = strtod(cell, &end);
            if (!len || end != cell + len || !isfinite(q))
                return bad_cell(c, s->column[TRIBE_TX_QUANTITY], cell, "is not a quantity");
        }
        v *= q;
    }
    int ret = 0;
    if (k->order >= 0 && s->cancel_prefix[0]) {
        const char *cell = tribe_csv_field(c, k->order, &len);
        ret = strncmp(cell, s->cancel_prefix, strlen(s->cancel_prefix)) == 0;
    }
    if (k->flag >= 0) {
        const char *cell = tribe_csv_field(c, k->flag, &len);
        for (int i = 0; i < s->n_return_values && !ret; i++)
            ret = strcmp(cell, s->return_values[i]) == 0;
    }
    *amount = ret ? -fabs(v) : v;
    return TRIBE_OK;
}

tribe_status tribe_exp_outcomes_read(const char *path, const tribe_mapping *m, const tribe_exp_assign *a,
                                     int window_days, tribe_exp_outcome **out, tribe_exp_tx_stats *ts)
{
    tribe_status st = TRIBE_OK;
    tribe_mapping *own = NULL;
    tribe_csv *c = NULL;
    tribe_exp_outcome *o = NULL;
    tx_cols k;
    int has = 0, string_ids;
    memset(ts, 0, sizeof *ts);
    ts->last_day = INT64_MIN;
    *out = NULL;
    if (window_days < 1)
        return tribe_fail(TRIBE_ERR_USAGE, "campaign measure: the window must be at least one day");
    if (!m) {
        TRIBE_TRY(tribe_mapping_default(&own));
        m = own;
    }
    string_ids = m->id_string || a->string_ids;
    TRIBE_TRY(tribe_calloc((void **)&o, (size_t)(a->n > 0 ? a->n : 1), sizeof *o));
    TRIBE_TRY(tribe_csv_open(path, NULL, &c));
    TRIBE_TRY(tx_columns(c, &m->src[TRIBE_MAP_TX], &k));
    while ((st = tribe_csv_next(c, &has)) == TRIBE_OK && has) {
        size_t len;
        int64_t key = 0, day = 0;
        char why[128];
        ts->rows++;
        if (tribe_csv_error(c)) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: malformed CSV record: %s", path, (long long)tribe_csv_line(c),
                            tribe_csv_error(c));
            goto cleanup;
        }
        const char *cell = tribe_csv_field(c, k.id, &len);
        int r = tribe_id_parse(cell, len, string_ids, &key, why, sizeof why);
        if (r < 0) {
            st = tribe_fail(TRIBE_ERR_INPUT, "%s:%lld: %s", path, (long long)tribe_csv_line(c), why);
            goto cleanup;
        }
        const char *dcell = tribe_csv_field(c, k.date, &len);
        int dated = tribe_day_parse_as(dcell, len, k.s->date_format, &day);
        if (dated && day > ts->last_day)
            ts->last_day = day;
        int64_t i = r == 0 ? -1 : tribe_exp_find(a, key);
        if (i < 0) { /* not in the experiment (or no id): only counted */
            ts->other++;
            continue;
        }
        if (!dated) {
            st = bad_cell(c, k.s->column[TRIBE_TX_DATE], dcell, "is not a date");
            goto cleanup;
        }
        if (day < a->u[i].day || day >= a->u[i].day + window_days) {
            ts->outside++;
            continue;
        }
        double amount = 0;
        TRIBE_TRY(row_amount(c, &k, &amount));
        o[i].spend += amount;
        o[i].converted |= amount > 0;
        ts->used++;
    }
    TRIBE_TRY(st);
    *out = o;
    o = NULL;
cleanup:
    free(o);
    tribe_csv_close(&c);
    tribe_mapping_destroy(&own);
    return st;
}

/* ---- the table ------------------------------------------------------------- */

void tribe_exp_table_free(tribe_exp_table *t)
{
    if (!t)
        return;
    free(t->row);
    memset(t, 0, sizeof *t);
}

static int cmp_seg(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

tribe_status tribe_exp_measure(const tribe_exp_assign *a, const tribe_exp_outcome *o, double conf,
                               double cost_per_message, tribe_exp_table *t)
{
    tribe_status st = TRIBE_OK;
    int64_t *segs = NULL, ns = 0;
    tribe_exp_arm (*arm)[2] = NULL;
    memset(t, 0, sizeof *t);
    t->conf = conf;
    t->cost_per_message = cost_per_message;
    TRIBE_TRY(tribe_calloc((void **)&segs, (size_t)(a->n > 0 ? a->n : 1), sizeof *segs));
    for (int64_t i = 0; i < a->n; i++)
        segs[i] = a->u[i].segment;
    qsort(segs, (size_t)a->n, sizeof *segs, cmp_seg);
    for (int64_t i = 0; i < a->n; i++)
        if (i == 0 || segs[i] != segs[i - 1])
            segs[ns++] = segs[i];
    TRIBE_TRY(tribe_calloc((void **)&arm, (size_t)ns + 1, sizeof *arm));
    /* customers in id order into their segment's arms and the overall row's:
     * a fixed order, so the sums do not depend on the outbox's line order */
    for (int64_t i = 0; i < a->n; i++) {
        const tribe_exp_unit *u = &a->u[i];
        int64_t lo = 0, hi = ns;
        while (lo < hi) {
            int64_t mid = (lo + hi) / 2;
            if (segs[mid] < u->segment)
                lo = mid + 1;
            else
                hi = mid;
        }
        tribe_exp_arm_add(&arm[lo][u->arm], o[i].converted, o[i].spend);
        tribe_exp_arm_add(&arm[ns][u->arm], o[i].converted, o[i].spend);
    }
    TRIBE_TRY(tribe_calloc((void **)&t->row, (size_t)ns + 1, sizeof *t->row));
    t->nrows = (int)ns + 1;
    for (int64_t s = 0; s <= ns; s++) {
        t->row[s].segment = s < ns ? segs[s] : -1;
        tribe_exp_compare(&arm[s][TRIBE_EXP_TREATMENT], &arm[s][TRIBE_EXP_CONTROL], conf, cost_per_message,
                          &t->row[s].r);
    }
cleanup:
    free(segs);
    free(arm);
    if (st != TRIBE_OK)
        tribe_exp_table_free(t);
    return st;
}

static tribe_status num(tribe_sbuf *b, double v)
{
    return isfinite(v) ? tribe_sbuf_printf(b, ",%.10g", v) : tribe_sbuf_add(b, ",");
}

static tribe_status ci3(tribe_sbuf *b, tribe_exp_ci c)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(num(b, c.est));
    TRIBE_TRY(num(b, c.lo));
    TRIBE_TRY(num(b, c.hi));
cleanup:
    return st;
}

tribe_status tribe_exp_csv(const tribe_exp_table *t, const char *campaign, char **out)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    *out = NULL;
    TRIBE_TRY(tribe_sbuf_add(&b, "campaign,segment,n_treatment,n_control,conversions_treatment,conversions_control,"
                                 "conversion_treatment,conversion_control,conversion_lift,conversion_lift_lo,"
                                 "conversion_lift_hi,conversion_rel_lift,conversion_rel_lift_lo,"
                                 "conversion_rel_lift_hi,spend_treatment,spend_control,spend_lift,spend_lift_lo,"
                                 "spend_lift_hi,spend_rel_lift,spend_rel_lift_lo,spend_rel_lift_hi,"
                                 "incremental_conversions,incremental_conversions_lo,incremental_conversions_hi,"
                                 "incremental_revenue,incremental_revenue_lo,incremental_revenue_hi,cost,roi,roi_lo,"
                                 "roi_hi,welch_df,small_sample,confidence,window_days\r\n"));
    for (int i = 0; i < t->nrows; i++) {
        const tribe_exp_result *r = &t->row[i].r;
        TRIBE_TRY(tribe_sbuf_csv_cell(&b, campaign));
        if (t->row[i].segment >= 0)
            TRIBE_TRY(tribe_sbuf_printf(&b, ",%lld", (long long)t->row[i].segment));
        else
            TRIBE_TRY(tribe_sbuf_add(&b, ",all"));
        TRIBE_TRY(tribe_sbuf_printf(&b, ",%lld,%lld,%lld,%lld", (long long)r->t.n, (long long)r->c.n,
                                    (long long)r->t.conv, (long long)r->c.conv));
        TRIBE_TRY(num(&b, r->conv_t));
        TRIBE_TRY(num(&b, r->conv_c));
        TRIBE_TRY(ci3(&b, r->conv_abs));
        TRIBE_TRY(ci3(&b, r->conv_rel));
        TRIBE_TRY(num(&b, r->spend_t));
        TRIBE_TRY(num(&b, r->spend_c));
        TRIBE_TRY(ci3(&b, r->spend_abs));
        TRIBE_TRY(ci3(&b, r->spend_rel));
        TRIBE_TRY(ci3(&b, r->incr_conversions));
        TRIBE_TRY(ci3(&b, r->incr_revenue));
        TRIBE_TRY(num(&b, r->cost));
        TRIBE_TRY(ci3(&b, r->roi));
        TRIBE_TRY(num(&b, r->welch_df));
        TRIBE_TRY(tribe_sbuf_printf(&b, ",%d,%g,%d\r\n", r->small, t->conf, t->window_days));
    }
    TRIBE_TRY(tribe_sbuf_take(&b, out));
cleanup:
    tribe_sbuf_free(&b);
    return st;
}
