/*
 * TwiML request parameters (set, replace, the 48 cap, form encoding of
 * reserved and UTF-8 bytes), X-Twilio-Signature vectors computed outside
 * irisx with `printf %s "<url><name><value>…" | openssl dgst -sha1 -hmac
 * <token> -binary | base64`, and URL resolution against RFC 3986 §5.4.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "twiml/twiml_int.h"

static void test_set_get_replace(void **state)
{
	struct twiml_params ps;

	twiml_params_init(&ps);
	assert_int_equal(twiml_params_set(&ps, "From", "+15551234567"), 0);
	assert_int_equal(twiml_params_set(&ps, "To", "+15557654321"), 0);
	assert_string_equal(twiml_params_get(&ps, "From"), "+15551234567");
	assert_null(twiml_params_get(&ps, "from")); /* names are case-sensitive */
	assert_null(twiml_params_get(&ps, "CallSid"));
	assert_int_equal(twiml_params_set(&ps, "From", "alice"), 0);
	assert_int_equal(ps.count, 2);
	assert_string_equal(twiml_params_get(&ps, "From"), "alice");
	assert_string_equal(ps.p[0].name, "From"); /* the first place is kept */
	assert_int_equal(twiml_params_set(&ps, "", "x"), -EINVAL);
	assert_int_equal(twiml_params_set(&ps, "x", NULL), -EINVAL);
	assert_int_equal(twiml_params_set(&ps, "Empty", ""), 0);
	assert_string_equal(twiml_params_get(&ps, "Empty"), "");
	twiml_params_fini(&ps);
}

static void test_full(void **state)
{
	struct twiml_params ps;
	char name[16];

	twiml_params_init(&ps);
	for (int i = 0; i < TWIML_PARAMS_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_int_equal(twiml_params_set(&ps, name, "v"), 0);
	}
	assert_int_equal(twiml_params_set(&ps, "one-more", "v"), -ENOSPC);
	/* Replacing still works when full. */
	assert_int_equal(twiml_params_set(&ps, "p7", "seven"), 0);
	assert_string_equal(twiml_params_get(&ps, "p7"), "seven");
	assert_int_equal(ps.count, TWIML_PARAMS_MAX);
	twiml_params_fini(&ps);
}

static void test_encode(void **state)
{
	struct twiml_params ps;
	struct buf b;

	twiml_params_init(&ps);
	buf_init(&b);
	twiml_params_encode(&ps, &b);
	assert_int_equal(b.len, 0);
	assert_int_equal(twiml_params_set(&ps, "From", "+1 555"), 0);
	assert_int_equal(twiml_params_set(&ps, "Speech", "h\xC3\xA9 &=?/%~-._"), 0);
	assert_int_equal(twiml_params_set(&ps, "a b", "AZaz09"), 0);
	assert_int_equal(twiml_params_set(&ps, "Empty", ""), 0);
	twiml_params_encode(&ps, &b);
	assert_string_equal(b.p, "From=%2B1%20555&Speech=h%C3%A9%20%26%3D%3F%2F%25~-._"
				 "&a%20b=AZaz09&Empty=");
	buf_fini(&b);
	twiml_params_fini(&ps);
}

static void test_signature_twilio_example(void **state)
{
	/* The example in Twilio's security documentation. */
	struct twiml_params ps;
	char sig[29];

	twiml_params_init(&ps);
	assert_int_equal(twiml_params_set(&ps, "To", "+18005551212"), 0);
	assert_int_equal(twiml_params_set(&ps, "CallSid", "CA1234567890ABCDE"), 0);
	assert_int_equal(twiml_params_set(&ps, "From", "+12349013030"), 0);
	assert_int_equal(twiml_params_set(&ps, "Caller", "+12349013030"), 0);
	assert_int_equal(twiml_params_set(&ps, "Digits", "1234"), 0);
	assert_int_equal(
	    twiml_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", &ps, sig), 0);
	assert_string_equal(sig, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
	twiml_params_fini(&ps);
}

static void test_signature_vectors(void **state)
{
	struct twiml_params ps;
	char sig[29];

	twiml_params_init(&ps);
	assert_int_equal(twiml_params_set(&ps, "To", "+15557654321"), 0);
	assert_int_equal(twiml_params_set(&ps, "From", "+15551234567"), 0);
	assert_int_equal(twiml_params_set(&ps, "Digits", "1234"), 0);
	assert_int_equal(twiml_params_set(&ps, "CallSid", "CA123"), 0);
	assert_int_equal(twiml_signature("12345", "https://example.com/twiml?x=1", &ps, sig), 0);
	assert_string_equal(sig, "oJTQ8iAH19PF2mva7vd/dc8ekyk=");
	/* A changed value changes the signature. */
	assert_int_equal(twiml_params_set(&ps, "Digits", "1235"), 0);
	assert_int_equal(twiml_signature("12345", "https://example.com/twiml?x=1", &ps, sig), 0);
	assert_string_not_equal(sig, "oJTQ8iAH19PF2mva7vd/dc8ekyk=");
	twiml_params_fini(&ps);

	/* Byte order: upper case before lower case. */
	twiml_params_init(&ps);
	assert_int_equal(twiml_params_set(&ps, "aa", "mid"), 0);
	assert_int_equal(twiml_params_set(&ps, "Zz", "last"), 0);
	assert_int_equal(twiml_params_set(&ps, "AA", "first"), 0);
	assert_int_equal(twiml_signature("secret", "http://irisx.test/voice", &ps, sig), 0);
	assert_string_equal(sig, "2ZTCPIjpTPMAAjY4jyg0dwIybc8=");
	twiml_params_fini(&ps);

	/* Values are signed raw, not form-encoded. */
	twiml_params_init(&ps);
	assert_int_equal(twiml_params_set(&ps, "SpeechResult", "h\xC3\xA9 &=+"), 0);
	assert_int_equal(twiml_signature("tok", "http://irisx.test/u", &ps, sig), 0);
	assert_string_equal(sig, "/MQNlnRwOFZ/Cj0c2HhbLMw08zs=");
	twiml_params_fini(&ps);
}

static void test_signature_get(void **state)
{
	char sig[29];

	/* A GET signs its URL with the query, and no parameters. */
	assert_int_equal(
	    twiml_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", NULL, sig), 0);
	assert_string_equal(sig, "zYQTYrRWXE7LtzbG4PfP7/bkkGo=");
	assert_int_equal(strlen(sig), 28);
	assert_int_equal(twiml_signature(NULL, "http://a/", NULL, sig), -EINVAL);
	assert_int_equal(twiml_signature("", "http://a/", NULL, sig), -EINVAL);
	assert_int_equal(twiml_signature("k", NULL, NULL, sig), -EINVAL);
}

/* RFC 3986 §5.4.1 and §5.4.2, base "http://a/b/c/d;p?q". */
static const struct {
	const char *ref, *want;
} rfc_vectors[] = {
    {"g", "http://a/b/c/g"},
    {"./g", "http://a/b/c/g"},
    {"g/", "http://a/b/c/g/"},
    {"/g", "http://a/g"},
    {"//g", "http://g"},
    {"?y", "http://a/b/c/d;p?y"},
    {"g?y", "http://a/b/c/g?y"},
    {"#s", "http://a/b/c/d;p?q#s"},
    {"g#s", "http://a/b/c/g#s"},
    {"g?y#s", "http://a/b/c/g?y#s"},
    {";x", "http://a/b/c/;x"},
    {"g;x", "http://a/b/c/g;x"},
    {"g;x?y#s", "http://a/b/c/g;x?y#s"},
    {".", "http://a/b/c/"},
    {"./", "http://a/b/c/"},
    {"..", "http://a/b/"},
    {"../", "http://a/b/"},
    {"../g", "http://a/b/g"},
    {"../..", "http://a/"},
    {"../../", "http://a/"},
    {"../../g", "http://a/g"},
    /* §5.4.2 */
    {"../../../g", "http://a/g"},
    {"../../../../g", "http://a/g"},
    {"/./g", "http://a/g"},
    {"/../g", "http://a/g"},
    {"g.", "http://a/b/c/g."},
    {".g", "http://a/b/c/.g"},
    {"g..", "http://a/b/c/g.."},
    {"..g", "http://a/b/c/..g"},
    {"./../g", "http://a/b/g"},
    {"./g/.", "http://a/b/c/g/"},
    {"g/./h", "http://a/b/c/g/h"},
    {"g/../h", "http://a/b/c/h"},
    {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
    {"g;x=1/../y", "http://a/b/c/y"},
    {"g?y/./x", "http://a/b/c/g?y/./x"},
    {"g?y/../x", "http://a/b/c/g?y/../x"},
    {"g#s/./x", "http://a/b/c/g#s/./x"},
    {"g#s/../x", "http://a/b/c/g#s/../x"},
    {"http:g", NULL}, /* strict: absolute, with no host → refused */
    {"g:h", NULL},    /* scheme g: not http(s) */
};

static void test_url_rfc3986(void **state)
{
	char out[256];

	for (size_t i = 0; i < ARRAY_LEN(rfc_vectors); i++) {
		int rc =
		    twiml_url_resolve("http://a/b/c/d;p?q", rfc_vectors[i].ref, out, sizeof(out));
		if (!rfc_vectors[i].want) {
			if (rc != -EINVAL)
				fail_msg("%s: %d, want -EINVAL", rfc_vectors[i].ref, rc);
			continue;
		}
		if (rc != 0)
			fail_msg("%s: %d", rfc_vectors[i].ref, rc);
		if (strcmp(out, rfc_vectors[i].want) != 0)
			fail_msg("%s: %s, want %s", rfc_vectors[i].ref, out, rfc_vectors[i].want);
	}
}

static void test_url_twiml(void **state)
{
	char out[64];

	assert_int_equal(
	    twiml_url_resolve("https://app.test/ivr/menu.xml", "/gather", out, sizeof(out)), 0);
	assert_string_equal(out, "https://app.test/gather");
	assert_int_equal(twiml_url_resolve("https://app.test", "next", out, sizeof(out)), 0);
	assert_string_equal(out, "https://app.test/next");
	assert_int_equal(twiml_url_resolve("HTTPS://app.test/a/b", "HTTP://other.test:8080/x?y=1",
					   out, sizeof(out)),
			 0);
	assert_string_equal(out, "http://other.test:8080/x?y=1");
	assert_int_equal(twiml_url_resolve("Http://app.test/a/b", "c", out, sizeof(out)), 0);
	assert_string_equal(out, "http://app.test/a/c");
	assert_int_equal(
	    twiml_url_resolve("https://app.test/a/b", "//cdn.test/s.wav", out, sizeof(out)), 0);
	assert_string_equal(out, "https://cdn.test/s.wav");

	/* The base's dot segments go too, even when the reference keeps its path. */
	assert_int_equal(twiml_url_resolve("http://a/b/./c/../d", "?x", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b/d?x");
	assert_int_equal(twiml_url_resolve("http://a/b/./c/../d", "#f", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b/d#f");

	/* Refusals. */
	static const char *const bad_refs[] = {
	    "ftp://files.test/a.wav",
	    "javascript:alert(1)",
	    "file:///etc/passwd",
	    "",
	    "mailto:a@b",
	    "a b",
	    "x\r\nHost: evil",
	    "http:///path",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad_refs); i++)
		if (twiml_url_resolve("https://app.test/a", bad_refs[i], out, sizeof(out)) !=
		    -EINVAL)
			fail_msg("ref \"%s\" accepted", bad_refs[i]);
	static const char *const bad_bases[] = {"", "/relative/base", "ftp://a/b", "http:/a",
						"HTTP://"};
	for (size_t i = 0; i < ARRAY_LEN(bad_bases); i++)
		if (twiml_url_resolve(bad_bases[i], "x", out, sizeof(out)) != -EINVAL)
			fail_msg("base \"%s\" accepted", bad_bases[i]);
	assert_int_equal(twiml_url_resolve(NULL, "x", out, sizeof(out)), -EINVAL);

	/* Exactly fitting, then one byte short. */
	char small[sizeof("http://a/b")];
	assert_int_equal(twiml_url_resolve("http://a/x", "b", small, sizeof(small)), 0);
	assert_string_equal(small, "http://a/b");
	assert_int_equal(twiml_url_resolve("http://a/x", "bb", small, sizeof(small)),
			 -ENAMETOOLONG);
}

static void test_url_with_query(void **state)
{
	char out[64];

	assert_int_equal(twiml_url_with_query("http://a/b", "x=1&y=2", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b?x=1&y=2");
	assert_int_equal(twiml_url_with_query("http://a/b?k=v", "x=1", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b?k=v&x=1");
	assert_int_equal(twiml_url_with_query("http://a/b?", "x=1", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b?x=1");
	assert_int_equal(twiml_url_with_query("http://a/b#frag", "x=1", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b?x=1#frag");
	assert_int_equal(twiml_url_with_query("http://a/b", "", out, sizeof(out)), 0);
	assert_string_equal(out, "http://a/b");
	char small[8];
	assert_int_equal(twiml_url_with_query("http://a/b", "x=1", small, sizeof(small)),
			 -ENAMETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_set_get_replace),
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_encode),
	    cmocka_unit_test(test_signature_twilio_example),
	    cmocka_unit_test(test_signature_vectors),
	    cmocka_unit_test(test_signature_get),
	    cmocka_unit_test(test_url_rfc3986),
	    cmocka_unit_test(test_url_twiml),
	    cmocka_unit_test(test_url_with_query),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
