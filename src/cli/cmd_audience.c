/* tribe campaign audience: per segment, the upload files of Google Ads
 * Customer Match and Meta custom audiences (docs/campaigns.md, "Audiences").
 * Rank 0 reads and writes; the other ranks only take part in opening
 * results.h5 and in the final agreement, so the files are the same whatever
 * the rank count. */
#include "cli.h"
#include "tribe/campaign.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char *const PLATFORM_FILE[] = {"google_customer_match", "meta_custom_audience"};
static const char *const PLATFORM_NAME[] = {"google", "meta"};

/* The segment name as a file-name part: ASCII letters and digits
 * lower-cased, every other run of bytes one '-', at most 40 bytes, no '-' at
 * either end ("At Risk 2" -> "at-risk-2"; "../x" -> "x"). */
static void slug(const char *name, char *out, size_t cap)
{
    size_t n = 0;
    for (const char *p = name; *p && n + 1 < cap && n < 40; p++) {
        char c = *p;
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out[n++] = c;
        else if (n > 0 && out[n - 1] != '-')
            out[n++] = '-';
    }
    while (n > 0 && out[n - 1] == '-')
        n--;
    out[n] = '\0';
}

typedef struct {
    const char *dir, *contacts, *suppress, *calling_code, *out;
    int platform[2]; /* google, meta wanted */
    int all;
    int64_t seg[64];
    int nseg;
} audience_opts;

static tribe_status parse(int argc, char **argv, audience_opts *o)
{
    tribe_status st = TRIBE_OK;
    int64_t v = 0;
    enum { O_RESULTS = 256, O_CONTACTS, O_PLATFORM, O_SEGMENT, O_ALL, O_OUT, O_SUPPRESS, O_CC };
    static const struct option opts[] = {
        {"results", required_argument, 0, O_RESULTS},   {"contacts", required_argument, 0, O_CONTACTS},
        {"platform", required_argument, 0, O_PLATFORM}, {"segment", required_argument, 0, O_SEGMENT},
        {"all", no_argument, 0, O_ALL},                 {"out", required_argument, 0, O_OUT},
        {"suppress", required_argument, 0, O_SUPPRESS}, {"country-code", required_argument, 0, O_CC},
        {0, 0, 0, 0}};
    int c;
    memset(o, 0, sizeof *o);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case O_RESULTS: o->dir = optarg; break;
        case O_CONTACTS: o->contacts = optarg; break;
        case O_PLATFORM:
            if (strcmp(optarg, "google") == 0) o->platform[TRIBE_AUDIENCE_GOOGLE] = 1;
            else if (strcmp(optarg, "meta") == 0) o->platform[TRIBE_AUDIENCE_META] = 1;
            else if (strcmp(optarg, "all") == 0) o->platform[0] = o->platform[1] = 1;
            else return tribe_cli_usage("campaign", "--platform must be google, meta or all, got '%s'", optarg);
            break;
        case O_SEGMENT:
            TRIBE_TRY(tribe_cli_int("campaign", "--segment", optarg, 0, INT32_MAX, &v));
            if (o->nseg == (int)(sizeof o->seg / sizeof *o->seg))
                return tribe_cli_usage("campaign", "at most 64 --segment options (use --all)");
            o->seg[o->nseg++] = v;
            break;
        case O_ALL: o->all = 1; break;
        case O_OUT: o->out = optarg; break;
        case O_SUPPRESS: o->suppress = optarg; break;
        case O_CC:
            o->calling_code = optarg;
            if (strlen(optarg) < 1 || strlen(optarg) > 3 || optarg[0] == '0' ||
                strspn(optarg, "0123456789") != strlen(optarg))
                return tribe_cli_usage("campaign",
                                       "--country-code '%s' is not a calling code (1 to 3 digits: 44, 1, 353)", optarg);
            break;
        default: return tribe_cli_usage("campaign", "unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc)
        return tribe_cli_usage("campaign", "unexpected argument '%s'", argv[optind]);
    if (!o->dir || !o->contacts || !o->out || !(o->platform[0] || o->platform[1]))
        return tribe_cli_usage("campaign", "audience needs --results DIR, --contacts FILE, --platform and --out DIR");
    if (o->all == (o->nseg > 0))
        return tribe_cli_usage("campaign", "audience needs either --segment ID (repeatable) or --all");
cleanup:
    return st;
}

/* One segment's file for one platform into o->out, and its summary row. */
static tribe_status write_one(const audience_opts *o, const tribe_cli_run_segments *r, int pos, int p,
                              const int64_t *ids, int64_t n, const tribe_contacts *cs, const tribe_suppression *sup,
                              tribe_sbuf *summary)
{
    tribe_status st = TRIBE_OK;
    tribe_sbuf b = {0};
    tribe_audience_stats s;
    char sl[48], file[160], path[4096];
    slug(r->names[pos], sl, sizeof sl);
    TRIBE_TRY(tribe_fmt(file, sizeof file, "%s_segment_%lld%s%s.csv", PLATFORM_FILE[p], (long long)r->seg_id[pos],
                        sl[0] ? "_" : "", sl));
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/%s", o->out, file));
    TRIBE_TRY(tribe_audience_csv((tribe_audience_platform)p, ids, n, cs, sup, o->calling_code, &b, &s));
    TRIBE_TRY(tribe_write_file_atomic(path, b.p, b.len));
    TRIBE_TRY(tribe_sbuf_printf(summary, "%lld,", (long long)r->seg_id[pos]));
    TRIBE_TRY(tribe_sbuf_csv_cell(summary, r->names[pos]));
    TRIBE_TRY(tribe_sbuf_printf(summary, ",%s,%s,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld,%lld\r\n",
                                PLATFORM_NAME[p], file, (long long)s.customers, (long long)s.exported,
                                (long long)s.emails, (long long)s.phones, (long long)s.no_contact,
                                (long long)s.opted_out, (long long)s.suppressed, (long long)s.invalid,
                                (long long)s.invalid_emails, (long long)s.invalid_phones));
    printf("  segment %lld %-24s %-6s customers %lld: exported %lld (e-mails %lld, phones %lld), no_contact %lld, "
           "opted_out %lld, suppressed %lld, invalid %lld (invalid e-mails %lld, phones %lld) -> %s\n",
           (long long)r->seg_id[pos], r->names[pos], PLATFORM_NAME[p], (long long)s.customers,
           (long long)s.exported, (long long)s.emails, (long long)s.phones, (long long)s.no_contact,
           (long long)s.opted_out, (long long)s.suppressed, (long long)s.invalid, (long long)s.invalid_emails,
           (long long)s.invalid_phones, file);
cleanup:
    tribe_sbuf_free(&b);
    return st;
}

/* Rank 0: every chosen segment and platform, then audience_summary.csv. */
static tribe_status write_all(const audience_opts *o, const tribe_cli_run_segments *r)
{
    tribe_status st = TRIBE_OK;
    tribe_contacts *cs = NULL;
    tribe_suppression *sup = NULL;
    tribe_sbuf summary = {0};
    int64_t *ids = NULL, n = 0;
    char known[512], path[4096];
    int *want = NULL;
    TRIBE_TRY(tribe_calloc((void **)&want, (size_t)(r->k > 0 ? r->k : 1), sizeof *want));
    for (int i = 0; i < o->nseg; i++) {
        int pos = tribe_cli_run_segments_pos(r, o->seg[i], known, sizeof known);
        if (pos < 0) {
            st = tribe_fail(TRIBE_ERR_USAGE, "--segment %lld: the run's segments are %s", (long long)o->seg[i], known);
            goto cleanup;
        }
        want[pos] = 1;
    }
    TRIBE_TRY(tribe_contacts_read(o->contacts, &cs));
    if (o->suppress)
        TRIBE_TRY(tribe_suppression_read(o->suppress, o->calling_code, &sup));
    TRIBE_TRY(tribe_mkdirs(o->out));
    TRIBE_TRY(tribe_alloc((void **)&ids, (size_t)(r->n > 0 ? r->n : 1) * sizeof *ids));
    TRIBE_TRY(tribe_sbuf_add(&summary, "segment_id,segment_name,platform,file,customers,exported,emails,phones,"
                                       "no_contact,opted_out,suppressed,invalid,invalid_emails,invalid_phones\r\n"));
    printf("campaign audience: run %s -> %s\n", r->run_id, o->out);
    for (int c = 0; c < r->k; c++) {
        if (!o->all && !want[c])
            continue;
        n = 0;
        for (int64_t i = 0; i < r->n; i++)
            if (r->label[i] == c)
                ids[n++] = r->id[i];
        for (int p = 0; p < 2; p++)
            if (o->platform[p])
                TRIBE_TRY(write_one(o, r, c, p, ids, n, cs, sup, &summary));
    }
    TRIBE_TRY(tribe_fmt(path, sizeof path, "%s/audience_summary.csv", o->out));
    TRIBE_TRY(tribe_write_file_atomic(path, summary.p, summary.len));
cleanup:
    tribe_contacts_destroy(&cs);
    tribe_suppression_destroy(&sup);
    tribe_sbuf_free(&summary);
    free(ids);
    free(want);
    return st;
}

tribe_status tribe_cli_campaign_audience(tribe_par *par, int argc, char **argv)
{
    tribe_status st = TRIBE_OK;
    audience_opts o;
    tribe_cli_run_segments r;
    TRIBE_TRY(parse(argc, argv, &o));
    TRIBE_TRY(tribe_cli_run_segments_read(par, o.dir, &r));
    if (tribe_par_rank(par) == 0)
        st = write_all(&o, &r);
    tribe_cli_run_segments_free(&r);
cleanup:
    return tribe_par_agree(par, st);
}
