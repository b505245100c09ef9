/* Unit tests for refining one persona (tribe_persona_refine) with the
 * offline writer and with the LLM provider against tools/llm_server.py, and
 * for rebuilding a run's provider from its job spec
 * (tribe_persona_provider_from_job). */
#include <cjson/cJSON.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "segfix.h"
#include "testutil.h"
#include "tribe/llm.h"
#include "tribe/persona.h"

static const char *shipped_prompt(void) { return tribe_test_data("../../jobs/prompts/persona-v1.txt"); }

static tribe_persona_provider *offline(uint64_t seed)
{
    tribe_persona_provider *pp = NULL;
    CU_ASSERT_EQUAL_FATAL(tribe_persona_offline_create(seed, &pp), TRIBE_OK);
    return pp;
}

/* Every text field of a persona as one string, to compare two personas. */
static char *as_json(const tribe_persona *p, const tribe_segments *s)
{
    char *json = NULL;
    tribe_persona one[1] = {*p};
    tribe_segments view = *s;
    int c = 0;
    while (c < s->k && s->seg[c].id != p->segment)
        c++;
    view.seg = &s->seg[c];
    view.k = 1;
    CU_ASSERT_EQUAL_FATAL(tribe_personas_to_json(one, 1, &view, &json), TRIBE_OK);
    return json;
}

static void refine_without_inputs_should_give_the_runs_persona(void)
{
    tribe_segments *s = fixture_segments_with_drivers();
    tribe_persona_provider *pp = offline(42);
    tribe_persona *all = NULL, one = {0};
    tribe_persona_inputs none = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_personas_write(pp, s, &all), TRIBE_OK);
    for (int c = 0; c < s->k; c++) {
        CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, c, c % 2 ? &none : NULL, &one), TRIBE_OK);
        char *a = as_json(&all[c], s), *b = as_json(&one, s);
        CU_ASSERT_STRING_EQUAL(a, b);
        free(a);
        free(b);
        tribe_persona_clear(&one);
    }
    tribe_personas_destroy(&all, s->k);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

/* The offline writer follows tone, emphasis and channels, the same way every
 * time, and stays grounded. */
static void offline_refine_should_follow_the_inputs_deterministically(void)
{
    tribe_segments *s = fixture_segments_with_drivers();
    tribe_persona_provider *pp = offline(42);
    static const char *const ch[] = {"sms", "Direct Mail", "app"};
    tribe_persona_inputs in = {.tone = "Formal", .emphasis = "how often they order", .n_channels = 3,
                               .channels = ch};
    for (int c = 0; c < s->k; c++) {
        tribe_persona plain = {0}, a = {0}, b = {0}, warm = {0};
        CU_ASSERT_EQUAL_FATAL(pp->write(pp, s, c, &plain), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, c, &in, &a), TRIBE_OK);
        CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, c, &in, &b), TRIBE_OK);
        char *ja = as_json(&a, s), *jb = as_json(&b, s);
        CU_ASSERT_STRING_EQUAL(ja, jb); /* deterministic */
        CU_ASSERT_EQUAL(tribe_persona_check_grounded(&a, s), TRIBE_OK);
        /* channels: the ones asked for, in that order */
        CU_ASSERT_EQUAL_FATAL(a.n_channels, 3);
        CU_ASSERT_STRING_EQUAL(a.channels[0], "SMS");
        CU_ASSERT_STRING_EQUAL(a.channels[1], "Direct mail");
        CU_ASSERT_STRING_EQUAL(a.channels[2], "In-app messages");
        /* tone: other wording, and the formal sign-off */
        CU_ASSERT_PTR_NOT_NULL(strstr(a.email_body, "Kind regards"));
        CU_ASSERT_PTR_NULL(strstr(plain.email_body, "Kind regards"));
        CU_ASSERT(strcmp(a.email_subject, plain.email_subject) != 0 || strcmp(a.tagline, plain.tagline) != 0);
        /* emphasis: one more sentence with the frequency figures (segment and base medians) */
        char want[160];
        snprintf(want, sizeof want, "Above all, keep in mind the number of orders: %g orders", FIX_MEDIAN[c][1]);
        if (FIX_MEDIAN[c][1] == 1)
            snprintf(want, sizeof want, "Above all, keep in mind the number of orders: 1 order");
        CU_ASSERT_PTR_NOT_NULL(strstr(a.bio, want));
        CU_ASSERT_PTR_NULL(strstr(plain.bio, "Above all"));
        /* a tone of its own wording changes the copy again */
        tribe_persona_inputs w = {.tone = "warm"};
        CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, c, &w, &warm), TRIBE_OK);
        CU_ASSERT_PTR_NOT_NULL(strstr(warm.email_body, "Speak soon"));
        CU_ASSERT_STRING_EQUAL(warm.bio, plain.bio); /* no emphasis: the bio is the run's */
        CU_ASSERT_EQUAL(warm.n_channels, plain.n_channels);
        free(ja);
        free(jb);
        tribe_persona_clear(&plain);
        tribe_persona_clear(&a);
        tribe_persona_clear(&b);
        tribe_persona_clear(&warm);
    }
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

/* An emphasis naming no feature stresses the segment's strongest driver. */
static void offline_emphasis_should_default_to_the_top_driver(void)
{
    tribe_segments *s = fixture_segments_with_drivers();
    tribe_persona_provider *pp = offline(42);
    tribe_persona p = {0};
    tribe_persona_inputs in = {.emphasis = "whatever matters most"};
    /* Champions' top driver is monetary: £4,310.50 against £668.40 */
    CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, 0, &in, &p), TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.bio, "Above all, keep in mind the net spend: "));
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&p, s), TRIBE_OK);
    tribe_persona_clear(&p);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

static void refine_should_reject_bad_inputs_naming_the_field(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona_provider *pp = offline(1);
    tribe_persona p = {0};
    char long_text[TRIBE_PERSONA_INPUT_MAX + 2];
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0'; /* 501 characters */
    static const char *const fax[] = {"email", "fax"}, *const twice[] = {"sms", "SMS"},
                             *const seven[] = {"email", "sms", "push", "social", "web", "app", "direct_mail"};
    struct {
        tribe_persona_inputs in;
        const char *says;
    } cases[] = {
        {{.tone = long_text}, "tone is 501 characters, more than 500"},
        {{.brand_guidance = "caf\xc3"}, "brand_guidance is not valid UTF-8"},
        {{.emphasis = "\xff"}, "emphasis is not valid UTF-8"},
        {{.n_channels = 2, .channels = fax}, "channels[1] 'fax' is not one of"},
        {{.n_channels = 2, .channels = twice}, "channels[1] 'sms' is given twice"},
        {{.n_channels = 7, .channels = seven}, "at most 6"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CU_ASSERT_EQUAL(tribe_persona_refine(pp, s, 1, &cases[i].in, &p), TRIBE_ERR_USAGE);
        CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), cases[i].says));
        CU_ASSERT_PTR_NULL(p.name);
    }
    /* 500 characters, and 500 two-byte characters, are allowed; control characters do not count */
    long_text[TRIBE_PERSONA_INPUT_MAX] = '\0';
    tribe_persona_inputs ok = {.tone = long_text};
    CU_ASSERT_EQUAL(tribe_persona_refine(pp, s, 1, &ok, &p), TRIBE_OK);
    tribe_persona_clear(&p);
    char wide[2 * TRIBE_PERSONA_INPUT_MAX + 8];
    for (int i = 0; i < TRIBE_PERSONA_INPUT_MAX; i++)
        memcpy(wide + 2 * i, "\xc3\xa9", 2);
    memcpy(wide + 2 * TRIBE_PERSONA_INPUT_MAX, "\x01\x7f\n", 4);
    ok.tone = wide;
    CU_ASSERT_EQUAL(tribe_persona_refine(pp, s, 1, &ok, &p), TRIBE_OK);
    tribe_persona_clear(&p);
    CU_ASSERT_EQUAL(tribe_persona_refine(pp, s, s->k, &ok, &p), TRIBE_ERR_INTERNAL);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

typedef struct {
    tribe_persona_provider *pp;
    const tribe_segments *s;
    int c;
    tribe_status st;
    char *json;
} refine_job;

static void *refine_thread(void *arg)
{
    refine_job *j = arg;
    static const char *const ch[] = {"web", "email"};
    tribe_persona_inputs in = {.tone = "playful", .emphasis = "visits", .n_channels = 2, .channels = ch};
    tribe_persona p = {0};
    for (int rep = 0; rep < 20 && j->st == TRIBE_OK; rep++) {
        j->st = tribe_persona_refine(j->pp, j->s, j->c, &in, &p);
        if (j->st == TRIBE_OK && !j->json)
            j->json = as_json(&p, j->s);
        tribe_persona_clear(&p);
    }
    return NULL;
}

/* One provider, refines on several threads at once (as tribe serve does):
 * each gives what a lone refine gives. */
static void one_provider_should_serve_refines_on_several_threads(void)
{
    tribe_segments *s = fixture_segments_with_drivers();
    tribe_persona_provider *pp = offline(5);
    refine_job jobs[2 * FIX_K];
    pthread_t th[2 * FIX_K];
    for (int i = 0; i < 2 * FIX_K; i++) {
        jobs[i] = (refine_job){.pp = pp, .s = s, .c = i % FIX_K};
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, refine_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 2 * FIX_K; i++)
        pthread_join(th[i], NULL);
    for (int i = 0; i < 2 * FIX_K; i++) {
        refine_job alone = {.pp = pp, .s = s, .c = i % FIX_K};
        refine_thread(&alone);
        CU_ASSERT_EQUAL(jobs[i].st, TRIBE_OK);
        CU_ASSERT_PTR_NOT_NULL_FATAL(jobs[i].json);
        CU_ASSERT_STRING_EQUAL(jobs[i].json, alone.json);
        free(jobs[i].json);
        free(alone.json);
    }
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
}

/* ---- the LLM provider against tools/llm_server.py --------------------------------------- */

typedef struct {
    pid_t pid;
    int port;
    char log[512];
} llm_server;

/* Starts the fake server in mode `mode`, logging requests; 0 when it cannot. */
static int server_start(llm_server *sv, const char *mode)
{
    int fd[2];
    snprintf(sv->log, sizeof sv->log, "%s/requests-%s.jsonl", tribe_test_tmpdir(), mode);
    if (pipe(fd) != 0)
        return 0;
    sv->pid = fork();
    if (sv->pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        execl("/usr/bin/python3", "python3", tribe_test_data("../../tools/llm_server.py"), "--mode", mode, "--log",
              sv->log, (char *)NULL);
        _exit(127);
    }
    close(fd[1]);
    FILE *f = fdopen(fd[0], "r");
    char line[64] = "";
    int ok = f && fgets(line, sizeof line, f) != NULL;
    if (f)
        fclose(f);
    sv->port = ok ? atoi(line) : 0;
    return sv->port > 0;
}

static void server_stop(llm_server *sv)
{
    if (sv->pid > 0) {
        kill(sv->pid, SIGTERM);
        waitpid(sv->pid, NULL, 0);
    }
}

/* The requests the server saw: count, and the user message of the last one. */
static int requests_seen(const llm_server *sv, char *last_user, size_t cap)
{
    char *text = NULL;
    int n = 0;
    if (tribe_read_file(sv->log, &text, NULL) != TRIBE_OK) {
        tribe_clear_error();
        return 0;
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        n++;
        cJSON *r = cJSON_Parse(line), *m;
        cJSON_ArrayForEach(m, cJSON_GetObjectItem(cJSON_GetObjectItem(r, "body"), "messages"))
        {
            const cJSON *role = cJSON_GetObjectItem(m, "role"), *content = cJSON_GetObjectItem(m, "content");
            if (last_user && cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0 && cJSON_IsString(content))
                snprintf(last_user, cap, "%s", content->valuestring);
        }
        cJSON_Delete(r);
    }
    free(text);
    return n;
}

/* Through the LLM provider: the inputs go after the profile in a delimited
 * block (control characters gone), the reply is schema- and
 * grounding-checked, a repeat hits the cache, other inputs do not, a segment
 * under k_min is written offline without a request, and bad inputs send
 * nothing. */
static void llm_refine_should_send_the_guidance_and_keep_the_run_rules(void)
{
    if (!tribe_test_need_python("json, http.server"))
        return;
    llm_server sv = {0};
    if (!server_start(&sv, "ok")) {
        server_stop(&sv);
        tribe_test_skip("tools/llm_server.py did not start");
        return;
    }
    char url[64], cache[512], user[16384];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", sv.port);
    snprintf(cache, sizeof cache, "%s/cache", tribe_test_tmpdir());
    tribe_segments *s = fixture_segments();
    tribe_llm_config cfg = {.base_url = url, .model = "test-model", .prompt_path = shipped_prompt(),
                            .cache_dir = cache, .temperature = 0.5,
                            .req = {.timeout_s = 10, .deadline_s = 30, .backoff_s = 0.01, .seed = 5,
                                    .max_concurrency = 2, .retries = 1, .k_min = 600}};
    tribe_persona_provider *pp = NULL;
    tribe_persona p = {0};
    CU_ASSERT_EQUAL_FATAL(tribe_persona_llm_create(&cfg, &pp), TRIBE_OK);
    static const char *const ch[] = {"email", "push"};
    tribe_persona_inputs in = {.tone = "warm\x01 and\nfriendly", .brand_guidance = "say 'Acme', never 'ACME'",
                               .emphasis = "spend", .n_channels = 2, .channels = ch};

    CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, 0, &in, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(requests_seen(&sv, user, sizeof user), 1);
    CU_ASSERT_STRING_EQUAL(p.provider, "test-model");
    CU_ASSERT_EQUAL(tribe_persona_check_grounded(&p, s), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(p.n_channels, 2);
    CU_ASSERT_STRING_EQUAL(p.channels[0], "E-mail");
    CU_ASSERT_STRING_EQUAL(p.channels[1], "Push notifications");
    const char *prof = strstr(user, "\"segment\":\"Champions\"");
    const char *block = strstr(user, "=== Marketer's guidance");
    CU_ASSERT_PTR_NOT_NULL(prof);
    CU_ASSERT_PTR_NOT_NULL_FATAL(block);
    CU_ASSERT(prof < block); /* after the profile */
    CU_ASSERT_PTR_NOT_NULL(strstr(block, "Tone: warm and friendly\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(block, "Brand guidance: say 'Acme', never 'ACME'\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(block, "Emphasis: spend\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(block, "Channels, most preferred first: email, push\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(block, "=== End of marketer's guidance ==="));
    char *first = as_json(&p, s);
    tribe_persona_clear(&p);

    /* the same inputs: from the cache, no request */
    CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, 0, &in, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(requests_seen(&sv, NULL, 0), 1);
    char *again = as_json(&p, s);
    CU_ASSERT_STRING_EQUAL(first, again);
    tribe_persona_clear(&p);
    /* other inputs: another key, another request; a run's persona is a third */
    in.tone = "formal";
    CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, 0, &in, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(requests_seen(&sv, NULL, 0), 2);
    tribe_persona_clear(&p);
    CU_ASSERT_EQUAL_FATAL(pp->write(pp, s, 0, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(requests_seen(&sv, user, sizeof user), 3);
    CU_ASSERT_PTR_NULL(strstr(user, "Marketer's guidance"));
    tribe_persona_clear(&p);

    /* New Customers (540) are under k_min = 600: offline, with the inputs, nothing sent */
    CU_ASSERT_EQUAL_FATAL(tribe_persona_refine(pp, s, 2, &in, &p), TRIBE_OK);
    CU_ASSERT_EQUAL(requests_seen(&sv, NULL, 0), 3);
    CU_ASSERT_PTR_NOT_NULL(strstr(p.provider, "k_min"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.email_body, "Kind regards"));
    CU_ASSERT_PTR_NOT_NULL(strstr(p.bio, "Above all, keep in mind the net spend"));
    CU_ASSERT_STRING_EQUAL(p.channels[1], "Push notifications");
    tribe_persona_clear(&p);

    /* bad inputs: nothing sent */
    in.n_channels = 7;
    CU_ASSERT_EQUAL(tribe_persona_refine(pp, s, 0, &in, &p), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(requests_seen(&sv, NULL, 0), 3);

    free(first);
    free(again);
    tribe_persona_provider_destroy(&pp);
    tribe_segments_destroy(&s);
    server_stop(&sv);
}

/* ---- the provider of a finished run ------------------------------------------------------ */

static void provider_from_job_should_build_what_the_run_built(void)
{
    tribe_segments *s = fixture_segments();
    tribe_persona_provider *pp = NULL, *ref = offline(99);
    tribe_persona a = {0}, b = {0};
    /* offline (the default): the run's seed keys the writer */
    CU_ASSERT_EQUAL_FATAL(tribe_persona_provider_from_job("{\"input\": \"c.h5\", \"output\": \"out\", "
                                                          "\"kmeans\": {\"k\": 5}}",
                                                          NULL, 99, &pp),
                          TRIBE_OK);
    CU_ASSERT_STRING_EQUAL(pp->name, "offline");
    CU_ASSERT_EQUAL_FATAL(pp->write(pp, s, 3, &a), TRIBE_OK);
    CU_ASSERT_EQUAL_FATAL(ref->write(ref, s, 3, &b), TRIBE_OK);
    char *ja = as_json(&a, s), *jb = as_json(&b, s);
    CU_ASSERT_STRING_EQUAL(ja, jb);
    free(ja);
    free(jb);
    tribe_persona_clear(&a);
    tribe_persona_clear(&b);
    tribe_persona_provider_destroy(&pp);

    /* openai: the prompt resolved beside the spec file, as the run did */
    char spec_path[1024];
    snprintf(spec_path, sizeof spec_path, "%s", tribe_test_data("../../jobs/demo.json"));
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job("{\"persona\": {\"provider\": \"openai\", \"base_url\": "
                                                    "\"http://127.0.0.1:1/v1\", \"model\": \"m\"}}",
                                                    spec_path, 1, &pp),
                    TRIBE_OK);
    CU_ASSERT_PTR_NOT_NULL(pp);
    if (pp)
        CU_ASSERT_STRING_EQUAL(pp->name, "openai");
    tribe_persona_provider_destroy(&pp);
    /* ... and not found without the spec's place */
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job("{\"persona\": {\"provider\": \"openai\", \"base_url\": "
                                                    "\"http://127.0.0.1:1/v1\", \"model\": \"m\"}}",
                                                    "/nonexistent/job.json", 1, &pp),
                    TRIBE_ERR_IO);
    /* the spec's persona section is held to the run's rules */
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job("{\"persona\": {\"provider\": \"openai\"}}", NULL, 1, &pp),
                    TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "persona.base_url"));
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job("{\"persona\": {\"k_mni\": 5}}", NULL, 1, &pp), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(tribe_errmsg(), "persona.k_mni"));
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job("not json", NULL, 1, &pp), TRIBE_ERR_USAGE);
    CU_ASSERT_EQUAL(tribe_persona_provider_from_job(NULL, NULL, 1, &pp), TRIBE_ERR_USAGE);
    CU_ASSERT_PTR_NULL(pp);
    tribe_persona_provider_destroy(&ref);
    tribe_segments_destroy(&s);
}

int main(void)
{
    static const tribe_test_case cases[] = {
        TRIBE_TEST(refine_without_inputs_should_give_the_runs_persona),
        TRIBE_TEST(offline_refine_should_follow_the_inputs_deterministically),
        TRIBE_TEST(offline_emphasis_should_default_to_the_top_driver),
        TRIBE_TEST(refine_should_reject_bad_inputs_naming_the_field),
        TRIBE_TEST(one_provider_should_serve_refines_on_several_threads),
        TRIBE_TEST(llm_refine_should_send_the_guidance_and_keep_the_run_rules),
        TRIBE_TEST(provider_from_job_should_build_what_the_run_built),
        {NULL, NULL}};
    return tribe_test_main("persona_refine", cases);
}
