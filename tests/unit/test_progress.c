/* Unit tests for src/core/progress.c: the progress lines' text, their rate
 * (an injected clock) and the last line at 100%. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static double fake_now;
static double fake_clock(void)
{
    return fake_now;
}

/* The lines written to f since it was opened, joined; f is rewound. */
static char *lines_of(FILE *f)
{
    long n = ftell(f);
    char *s = calloc((size_t)n + 1, 1);
    rewind(f);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    return s;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void a_line_should_name_the_stage_share_elapsed_and_time_left(void)
{
    char b[256];
    tribe_progress_format(b, sizeof b, "drivers", "training", "tree", 90, 200, 12.3, 0);
    CU_ASSERT_STRING_EQUAL(b, "progress: drivers: training 45% (tree 90/200) 12.3 s elapsed, ~15 s left");
    tribe_progress_format(b, sizeof b, "drivers", "training", "tree", 200, 200, 27.04, 1);
    CU_ASSERT_STRING_EQUAL(b, "progress: drivers: training 100% (tree 200/200) in 27.0 s");
    tribe_progress_format(b, sizeof b, "gmm", "EM", "iteration", 12, 100, 3.0, 1);
    CU_ASSERT_STRING_EQUAL(b, "progress: gmm: EM 100% (iteration 12/100, stopped early) in 3.0 s");
    tribe_progress_format(b, sizeof b, NULL, "K sweep", "K", 0, 10, 0.5, 0);
    CU_ASSERT_STRING_EQUAL(b, "progress: K sweep 0% (K 0/10) 0.5 s elapsed");
}

static void long_times_should_read_in_minutes(void)
{
    char b[256];
    tribe_progress_format(b, sizeof b, "ltv", "training", "tree", 1, 4, 125.0, 0);
    CU_ASSERT_STRING_EQUAL(b, "progress: ltv: training 25% (tree 1/4) 2 min 05 s elapsed, ~6 min left");
}

static void a_loop_of_unknown_size_should_give_its_count_without_a_share(void)
{
    char b[256];
    tribe_progress_format(b, sizeof b, "ingest", "reading", "rows read by rank 0", 1234567, 0, 4.3, 0);
    CU_ASSERT_STRING_EQUAL(b, "progress: ingest: reading (1234567 rows read by rank 0) 4.3 s elapsed");
    tribe_progress_format(b, sizeof b, "ingest", "reading", "rows read by rank 0", 1234567, 0, 9.0, 1);
    CU_ASSERT_STRING_EQUAL(b, "progress: ingest: reading 100% (1234567 rows read by rank 0) in 9.0 s");
}

static void the_share_should_stay_below_100_until_the_last_line(void)
{
    char b[256];
    tribe_progress_format(b, sizeof b, "kmeans", "K sweep", "K", 999, 1000, 50.0, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b, " 99% (K 999/1000)"));
    tribe_progress_format(b, sizeof b, "kmeans", "K sweep", "K", 1000, 1000, 50.0, 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(b, " 99% (K 1000/1000)"));
}

static void small_buffers_should_truncate_without_overrunning(void)
{
    char b[24];
    memset(b, 'x', sizeof b);
    int n = tribe_progress_format(b, 16, "drivers", "training", "tree", 90, 200, 12.3, 0);
    CU_ASSERT(n > 16);
    CU_ASSERT_EQUAL(strlen(b), 15);
    CU_ASSERT_EQUAL(b[16], 'x');
}

static void steps_should_print_at_most_once_a_second_and_end_at_100(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 100.0;
    tribe_progress_setup(1, 1.0, f, fake_clock);
    tribe_progress_stage("drivers");
    tribe_progress_begin("training", "tree", 200);
    for (int t = 1; t <= 200; t++) { /* a tree every 1/16 s (exact in binary): 12.5 s in all */
        fake_now += 0.0625;
        tribe_progress_step(t);
    }
    tribe_progress_end();
    char *s = lines_of(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    /* a line after each whole second (trees 16, 32, ..., 192), then the 100% line */
    CU_ASSERT_EQUAL(count_lines(s), 13);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "progress: drivers: training 8% (tree 16/200) 1.0 s elapsed, ~12 s left\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "progress: drivers: training 96% (tree 192/200) 12.0 s elapsed, <1 s left\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "progress: drivers: training 100% (tree 200/200) in 12.5 s\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "tree 17/200"));
    free(s);
    fclose(f);
    tribe_progress_setup(0, 1.0, NULL, NULL);
}

static void a_loop_under_a_second_should_print_nothing(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 5.0;
    tribe_progress_setup(1, 1.0, f, fake_clock);
    tribe_progress_begin("EM", "iteration", 100);
    for (int it = 1; it <= 30; it++) {
        fake_now += 0.03;
        tribe_progress_step(it);
    }
    tribe_progress_end();
    CU_ASSERT_EQUAL(ftell(f), 0);
    fclose(f);
    tribe_progress_setup(0, 1.0, NULL, NULL);
}

static void progress_off_should_print_nothing_and_a_new_stage_should_drop_the_loop(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 0;
    tribe_progress_setup(0, 0, f, fake_clock); /* off: even with interval 0 */
    tribe_progress_begin("TreeSHAP", "row", 10);
    fake_now = 50;
    tribe_progress_step(5);
    tribe_progress_end();
    CU_ASSERT_EQUAL(ftell(f), 0);
    CU_ASSERT_FALSE(tribe_progress_on());
    tribe_progress_setup(1, 1.0, f, fake_clock); /* on, but the loop is dropped by the stage's end */
    tribe_progress_begin("TreeSHAP", "row", 10);
    tribe_progress_stage(NULL);
    fake_now = 100;
    tribe_progress_step(5);
    tribe_progress_end();
    CU_ASSERT_EQUAL(ftell(f), 0);
    fclose(f);
    tribe_progress_setup(0, 1.0, NULL, NULL);
}

static void a_loop_inside_another_should_leave_the_reporting_to_the_outer_one(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 0;
    tribe_progress_setup(1, 1.0, f, fake_clock);
    tribe_progress_stage("kmeans");
    tribe_progress_begin("K sweep", "K", 4);
    for (int k = 1; k <= 4; k++) {
        tribe_progress_begin("statistics", "passes", 0); /* silent: inside the sweep */
        for (int p = 1; p <= 3; p++) {
            fake_now += 0.5;
            tribe_progress_step(p);
        }
        tribe_progress_end();
        tribe_progress_step(k);
    }
    tribe_progress_end();
    char *s = lines_of(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NULL(strstr(s, "statistics"));
    CU_ASSERT_EQUAL(count_lines(s), 5); /* after each K (1.5 s apart), then the 100% line */
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "progress: kmeans: K sweep 25% (K 1/4) 1.5 s elapsed, ~4 s left\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "progress: kmeans: K sweep 100% (K 4/4) in 6.0 s\n"));
    free(s);
    fclose(f);
    tribe_progress_setup(0, 1.0, NULL, NULL);
}

static void control_characters_in_a_name_should_not_reach_the_terminal(void)
{
    FILE *f = tmpfile();
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    fake_now = 0;
    tribe_progress_setup(1, 0, f, fake_clock);
    tribe_progress_stage("st\x1b[2Jage\n");
    tribe_progress_begin("what", "unit", 2);
    tribe_progress_step(1);
    char *s = lines_of(f);
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_EQUAL(count_lines(s), 1);
    CU_ASSERT_PTR_NULL(strchr(s, '\x1b'));
    free(s);
    fclose(f);
    tribe_progress_setup(0, 1.0, NULL, NULL);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(a_line_should_name_the_stage_share_elapsed_and_time_left),
        TRIBE_TEST(long_times_should_read_in_minutes),
        TRIBE_TEST(a_loop_of_unknown_size_should_give_its_count_without_a_share),
        TRIBE_TEST(the_share_should_stay_below_100_until_the_last_line),
        TRIBE_TEST(small_buffers_should_truncate_without_overrunning),
        TRIBE_TEST(steps_should_print_at_most_once_a_second_and_end_at_100),
        TRIBE_TEST(a_loop_under_a_second_should_print_nothing),
        TRIBE_TEST(progress_off_should_print_nothing_and_a_new_stage_should_drop_the_loop),
        TRIBE_TEST(a_loop_inside_another_should_leave_the_reporting_to_the_outer_one),
        TRIBE_TEST(control_characters_in_a_name_should_not_reach_the_terminal),
        {NULL, NULL}};
    return tribe_test_main("progress", cases);
}
