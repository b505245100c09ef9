/* The financial layout of tribe gen (--layout financial, docs/gen.md): the
 * card-payment export of the financial brief, a bank's
 *     transactions_data.csv  id,date,client_id,card_id,amount,use_chip,merchant_id,
 *                            merchant_city,merchant_state,zip,mcc,errors
 *     users_data.csv         id,current_age,retirement_age,birth_year,birth_month,gender,address,
 *                            latitude,longitude,per_capita_income,yearly_income,total_debt,
 *                            credit_score,num_credit_cards
 * with amounts written as the export writes them ("$-77.00", "$59696").
 *
 * The customers, their planted segments and their purchase days are those of
 * the Online Retail layout (the same plan, gen_plan_customer): each purchase
 * day becomes one to four card payments. On top, each segment plants what the
 * financial features measure: the purchase size, the online share, the chip
 * share of card-present payments, the merchant-category mix, the yearly
 * income, the debt-to-income ratio and the credit score.
 */
#include "gen_internal.h"

#include <stdio.h>

#define FIN_NMCC 12
#define FIN_TX_ROW_MAX 160
#define FIN_USER_ROW_MAX 200
enum { ST_FIN_CARDS = 6, ST_FIN_HOME = 7 }; /* the card count and home city, shared by both files */

/* Merchant category codes (ISO 18245) and how they scale a purchase. */
static const struct {
    const char *code;
    double size;
} fin_mcc[FIN_NMCC] = {{"5411", 1.0}, {"5812", 0.7}, {"5541", 0.9}, {"5912", 0.6}, {"5311", 1.5}, {"4829", 3.0},
                       {"5300", 2.0}, {"4121", 0.5}, {"5732", 3.0}, {"7011", 4.0}, {"4511", 6.0}, {"5651", 1.3}};

typedef struct {
    double amount_median; /* dollars per purchase before the category's size; lognormal sigma 0.7 */
    double p_online;      /* share of purchases made online */
    double p_chip;        /* share of card-present purchases read by chip (the rest swiped) */
    double income_median; /* yearly income in dollars; lognormal sigma 0.3 */
    double dti_median;    /* total debt / yearly income; lognormal sigma 0.45 */
    double score_mean;    /* credit score: normal, sd 45, clipped to 300..850 */
    double mcc[FIN_NMCC]; /* category mix (weights) */
} fin_segdef;

/* In gen_segdefs order: Champions, Loyal, Big spenders, New customers, At
 * risk, Hibernating, Promising, Need attention. */
static const fin_segdef fin_segdefs[TRIBE_GEN_MAX_SEGMENTS] = {
    {42, 0.35, 0.80, 72000, 0.9, 760, {20, 18, 8, 6, 10, 3, 4, 6, 9, 7, 5, 4}},
    {32, 0.25, 0.75, 58000, 1.1, 730, {28, 16, 10, 8, 9, 3, 6, 4, 5, 3, 2, 6}},
    {120, 0.20, 0.90, 125000, 0.7, 785, {10, 14, 6, 3, 8, 4, 3, 8, 14, 14, 12, 4}},
    {28, 0.50, 0.70, 42000, 1.6, 680, {18, 22, 8, 5, 8, 6, 2, 10, 8, 3, 2, 8}},
    {30, 0.15, 0.60, 52000, 1.8, 650, {30, 12, 14, 9, 8, 6, 6, 3, 4, 2, 1, 5}},
    {20, 0.10, 0.50, 38000, 2.2, 615, {34, 10, 16, 12, 6, 8, 6, 2, 2, 1, 1, 2}},
    {35, 0.35, 0.75, 50000, 1.2, 710, {22, 18, 9, 6, 9, 4, 4, 7, 7, 5, 3, 6}},
    {26, 0.20, 0.65, 46000, 1.9, 660, {30, 13, 13, 9, 8, 6, 6, 4, 4, 2, 1, 4}},
};

/* Where card-present payments happen and customers live (zip as the export
 * writes it: a float). */
static const struct {
    const char *city, *state, *zip;
    double lat, lon;
} fin_places[] = {
    {"Beulah", "ND", "58523.0", 47.26, -101.78},  {"Houston", "TX", "77002.0", 29.76, -95.37},
    {"Chicago", "IL", "60601.0", 41.88, -87.63},  {"Miami", "FL", "33101.0", 25.77, -80.19},
    {"Seattle", "WA", "98101.0", 47.61, -122.33}, {"Denver", "CO", "80202.0", 39.74, -104.99},
    {"Columbus", "OH", "43215.0", 39.96, -83.00}, {"Phoenix", "AZ", "85004.0", 33.45, -112.07},
    {"Atlanta", "GA", "30303.0", 33.75, -84.39},  {"La Verne", "CA", "91750.0", 34.10, -117.77},
};
static const double fin_place_w[] = {1, 6, 6, 4, 3, 3, 3, 4, 4, 5};
#define FIN_NPLACES ((int)(sizeof fin_places / sizeof fin_places[0]))
static const char *const fin_streets[] = {"Rose Lane", "Oak Street", "Maple Avenue", "Main Street", "Elm Drive",
                                          "Cedar Court", "Pine Road", "Lake Boulevard", "Hill Street", "River Way"};
#define FIN_NSTREETS ((int)(sizeof fin_streets / sizeof fin_streets[0]))

static void put_dollars(tribe_sbuf *b, int64_t cents)
{
    putc1(b, '$');
    put_fixed(b, cents, 2);
}

static int fin_cards(const gen_model *m, int64_t i)
{
    grng r = grng_make(m, i, ST_FIN_CARDS);
    return 1 + g_below(&r, 5) + g_bern(&r, 0.3) * g_below(&r, 4); /* 1..8 */
}

static int fin_home(const gen_model *m, int64_t i)
{
    grng r = grng_make(m, i, ST_FIN_HOME);
    return g_pick(&r, fin_place_w, FIN_NPLACES);
}

typedef struct {
    int64_t tid, id, card, merchant, cents;
    int day, mod, online, chip, mcc, place;
} fin_tx;

static void put_fin_tx(tribe_sbuf *b, const gen_model *m, const fin_tx *t)
{
    put_i64(b, t->tid);
    putc1(b, ',');
    put_datetime(b, m, t->day, t->mod, 0);
    putc1(b, ',');
    put_i64(b, t->id);
    putc1(b, ',');
    put_i64(b, t->card);
    putc1(b, ',');
    put_dollars(b, t->cents);
    putc1(b, ',');
    puts0(b, t->online ? "Online Transaction" : t->chip ? "Chip Transaction" : "Swipe Transaction");
    putc1(b, ',');
    put_i64(b, t->merchant);
    putc1(b, ',');
    if (t->online) {
        puts0(b, "ONLINE,,,"); /* the export leaves state and zip empty online */
    } else {
        puts0(b, fin_places[t->place].city);
        putc1(b, ',');
        puts0(b, fin_places[t->place].state);
        putc1(b, ',');
        puts0(b, fin_places[t->place].zip);
        putc1(b, ',');
    }
    puts0(b, fin_mcc[t->mcc].code);
    puts0(b, ",\n"); /* errors: always empty (every payment went through) */
}

/* One purchase of the customer on day t->day: category, channel, merchant, amount. */
static void fin_purchase(grng *r, const fin_segdef *fs, const gen_plan *pl, int home, fin_tx *t)
{
    t->mcc = g_pick(r, fs->mcc, FIN_NMCC);
    t->online = g_bern(r, fs->p_online);
    t->chip = !t->online && g_bern(r, fs->p_chip);
    t->place = t->online || g_bern(r, 0.8) ? home : g_below(r, FIN_NPLACES);
    t->merchant = 10000 + 1000 * t->mcc + g_below(r, 1000);
    double dollars = fs->amount_median * fin_mcc[t->mcc].size * pl->qscale * exp(0.7 * g_normal(r) - 0.245);
    int64_t cents = (int64_t)llround(dollars * 100.0);
    t->cents = cents < 50 ? 50 : cents > 2000000 ? 2000000 : cents;
}

static void fin_transactions(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id, int64_t inv0,
                             tribe_sbuf *b, int64_t *cnt, int64_t *last_day)
{
    grng r = grng_make(m, i, ST_LINES);
    const gen_segdef *sd = &gen_segdefs[pl->seg];
    const fin_segdef *fs = &fin_segdefs[pl->seg];
    const int cards = fin_cards(m, i), home = fin_home(m, i);
    const double p_more = (sd->lines_mean - 1.0) / 3.0;
    int64_t *seg = cnt + GC_SEG_BASE + pl->seg * GC_SEG_STRIDE;
    int64_t inv = inv0, rows = 0, purchases = 0, cents_sum = 0;
    for (int j = 0; j < pl->n_inv; j++, inv++) {
        int n = 1 + g_bern(&r, p_more) + g_bern(&r, p_more) + g_bern(&r, p_more);
        fin_tx first = {0};
        for (int k = 0; k < n; k++) {
            fin_tx t = {inv * 8 + k, id, id * 10 + g_below(&r, cards), 0, 0, pl->day[j], 0, 0, 0, 0, 0};
            fin_purchase(&r, fs, pl, home, &t);
            t.mod = (7 + g_below(&r, 15)) * 60 + g_below(&r, 60);
            put_fin_tx(b, m, &t);
            if (k == 0)
                first = t;
            purchases++;
            cents_sum += t.cents;
            cnt[GC_FIN_ONLINE] += t.online;
            cnt[GC_FIN_CHIP] += t.chip;
            cnt[GC_FIN_SWIPE] += !t.online && !t.chip;
            seg[GS_FIN_ONLINE] += t.online;
            seg[GS_FIN_CHIP] += t.chip;
        }
        rows += n;
        /* a refund of the day's first payment: the same card and merchant, a negative amount */
        if (pl->cancel[j]) {
            fin_tx t = first;
            t.tid = inv * 8 + 7;
            t.mod = first.mod + 1 + g_below(&r, 120);
            t.mod = t.mod > 23 * 60 + 59 ? 23 * 60 + 59 : t.mod;
            t.cents = -first.cents;
            put_fin_tx(b, m, &t);
            rows++;
            cnt[GC_FIN_REFUNDS]++;
            cnt[GC_FIN_REFUND_CENTS] += first.cents;
            seg[GS_FIN_REFUND_CENTS] += first.cents;
        }
    }
    if (pl->malformed) { /* an amount that is not money: a letter O for a zero */
        put_i64(b, inv * 8 + 6);
        putc1(b, ',');
        put_datetime(b, m, pl->recency, 12 * 60, 0);
        putc1(b, ',');
        put_i64(b, id);
        putc1(b, ',');
        put_i64(b, id * 10);
        puts0(b, ",$1O.00,Swipe Transaction,10000,ONLINE,,,5411,\n");
        rows++;
        cnt[GC_MALFORMED]++;
    }
    cnt[GC_TX_ROWS] += rows;
    cnt[GC_KEPT_ROWS] += purchases;
    cnt[GC_KEPT_INVOICES] += purchases;
    cnt[GC_KEPT_CENTS] += cents_sum;
    seg[GS_COUNT]++;
    seg[GS_RECENCY] += pl->recency + 1;
    seg[GS_FREQUENCY] += purchases;
    seg[GS_CENTS] += cents_sum;
    seg[GS_FIN_PURCHASES] += purchases;
    int64_t day = m->end_day - pl->recency;
    if (day > *last_day)
        *last_day = day;
}

static void fin_user(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id, tribe_sbuf *b, int64_t *cnt)
{
    grng r = grng_make(m, i, ST_DEMO);
    const gen_segdef *sd = &gen_segdefs[pl->seg];
    const fin_segdef *fs = &fin_segdefs[pl->seg];
    const int home = fin_home(m, i);
    int age = clampi((int)lround(sd->age_mean + sd->age_sd * g_normal(&r)), 18, 90);
    int retire = 62 + g_below(&r, 9);
    int month = 1 + g_below(&r, 12);
    int64_t y;
    int mo, dd;
    tribe_civil_from_days(m->end_day, &y, &mo, &dd);
    int64_t income = (int64_t)llround(fs->income_median * exp(0.3 * g_normal(&r) - 0.045));
    if (age >= retire)
        income = income * 6 / 10;
    int64_t per_capita = income * (45 + g_below(&r, 20)) / 100;
    int64_t debt = (int64_t)llround((double)income * fs->dti_median * exp(0.45 * g_normal(&r) - 0.101));
    if (g_bern(&r, 0.08))
        debt = 0; /* no debt at all */
    int score = clampi((int)lround(fs->score_mean + 45 * g_normal(&r)), 300, 850);
    put_i64(b, id);
    putc1(b, ',');
    put_i64(b, age);
    putc1(b, ',');
    put_i64(b, retire);
    putc1(b, ',');
    put_i64(b, y - age - (month > mo));
    putc1(b, ',');
    put_i64(b, month);
    puts0(b, g_bern(&r, 0.5) ? ",Female," : ",Male,");
    put_i64(b, 1 + g_below(&r, 9999));
    putc1(b, ' ');
    puts0(b, fin_streets[g_below(&r, FIN_NSTREETS)]);
    putc1(b, ',');
    put_fixed(b, (int64_t)lround(fin_places[home].lat * 100) + g_below(&r, 21) - 10, 2);
    putc1(b, ',');
    put_fixed(b, (int64_t)lround(fin_places[home].lon * 100) + g_below(&r, 21) - 10, 2);
    puts0(b, ",$");
    put_i64(b, per_capita);
    puts0(b, ",$");
    put_i64(b, income);
    puts0(b, ",$");
    put_i64(b, debt);
    putc1(b, ',');
    put_i64(b, score);
    putc1(b, ',');
    put_i64(b, fin_cards(m, i));
    putc1(b, '\n');
    int64_t *seg = cnt + GC_SEG_BASE + pl->seg * GC_SEG_STRIDE;
    seg[GS_FIN_INCOME] += income;
    seg[GS_FIN_DEBT] += debt;
    seg[GS_FIN_SCORE] += score;
    cnt[GC_DEMO_ROWS]++;
}

tribe_status gen_fin_customer(const gen_model *m, int64_t i, const gen_plan *pl, int64_t id, int64_t inv0,
                              tribe_sbuf out[GEN_NFILES], int64_t *cnt, int64_t *last_day)
{
    tribe_status st = TRIBE_OK;
    /* worst case: 4 payments and a refund a day, plus the malformed row */
    TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_TX], (size_t)(5 * pl->n_inv + 1) * FIN_TX_ROW_MAX));
    fin_transactions(m, i, pl, id, inv0, &out[GEN_TX], cnt, last_day);
    if (m->demo) {
        TRIBE_TRY(tribe_sbuf_reserve(&out[GEN_DEMO], FIN_USER_ROW_MAX));
        fin_user(m, i, pl, id, &out[GEN_DEMO], cnt);
    }
cleanup:
    return st;
}

tribe_status gen_fin_truth(const gen_model *m, const int64_t *c, tribe_sbuf *b)
{
    tribe_status st = TRIBE_OK;
    TRIBE_TRY(tribe_sbuf_printf(b, "  \"financial\": {\"purchases\": %lld, \"purchase_cents\": %lld, "
                                   "\"refunds\": %lld, \"refund_cents\": %lld, \"online\": %lld, \"chip\": %lld, "
                                   "\"swipe\": %lld, \"malformed\": %lld,\n    \"segments\": [\n",
                                (long long)c[GC_KEPT_ROWS], (long long)c[GC_KEPT_CENTS], (long long)c[GC_FIN_REFUNDS],
                                (long long)c[GC_FIN_REFUND_CENTS], (long long)c[GC_FIN_ONLINE],
                                (long long)c[GC_FIN_CHIP], (long long)c[GC_FIN_SWIPE], (long long)c[GC_MALFORMED]));
    for (int s = 0; s < m->nseg; s++) {
        const fin_segdef *fs = &fin_segdefs[s];
        const int64_t *sc = c + GC_SEG_BASE + s * GC_SEG_STRIDE;
        double n = sc[GS_COUNT] > 0 ? (double)sc[GS_COUNT] : 1.0;
        double np = sc[GS_FIN_PURCHASES] > 0 ? (double)sc[GS_FIN_PURCHASES] : 1.0;
        double present = (double)(sc[GS_FIN_PURCHASES] - sc[GS_FIN_ONLINE]);
        TRIBE_TRY(tribe_sbuf_printf(
            b,
            "      {\"id\": %d, \"name\": \"%s\", \"amount_median\": %g, \"p_online\": %g, \"p_chip\": %g, "
            "\"income_median\": %g, \"dti_median\": %g, \"score_mean\": %g,\n"
            "       \"realised\": {\"online_share\": %.4f, \"chip_share_card_present\": %.4f, "
            "\"mean_purchase\": %.4f, \"mean_refunded\": %.4f, \"mean_yearly_income\": %.2f, "
            "\"mean_total_debt\": %.2f, \"mean_credit_score\": %.2f}}%s\n",
            s, gen_segdefs[s].name, fs->amount_median, fs->p_online, fs->p_chip, fs->income_median, fs->dti_median,
            fs->score_mean, (double)sc[GS_FIN_ONLINE] / np, present > 0 ? (double)sc[GS_FIN_CHIP] / present : 0.0,
            (double)sc[GS_CENTS] / 100.0 / np, (double)sc[GS_FIN_REFUND_CENTS] / 100.0 / n,
            (double)sc[GS_FIN_INCOME] / n, (double)sc[GS_FIN_DEBT] / n, (double)sc[GS_FIN_SCORE] / n,
            s + 1 < m->nseg ? "," : ""));
    }
    TRIBE_TRY(tribe_sbuf_printf(b, "    ]},\n"));
cleanup:
    return st;
}
