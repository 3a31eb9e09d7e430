/*
 * Unit tests for base: slices, number parsing, buffers, addresses, ids.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "base/base.h"

static void test_str_compare(void **state)
{
	assert_true(str_eq(STR("abc"), STR("abc")));
	assert_false(str_eq(STR("abc"), STR("abd")));
	assert_true(str_ieq(STR("Call-ID"), STR("call-id")));
	assert_false(str_ieq(STR("Call-ID"), STR("call-i")));
	assert_true(str_starts_with_i(STR("SIP/2.0"), "sip/"));
	struct str t = str_trim(STR(" \t x y \r\n"));
	assert_true(str_eq(t, STR("x y")));
	assert_int_equal(str_find_char(STR("a;b"), ';'), 1);
	assert_int_equal(str_find_char(STR("ab"), ';'), -1);
	assert_int_equal(str_trim(STR("  ")).len, 0);
}

static void test_str_numbers(void **state)
{
	uint32_t v;
	assert_int_equal(str_to_u32(STR("4294967295"), &v), 0);
	assert_int_equal(v, UINT32_MAX);
	assert_int_equal(str_to_u32(STR("4294967296"), &v), -ERANGE);
	assert_int_equal(str_to_u32(STR("-1"), &v), -EINVAL);
	assert_int_equal(str_to_u32(STR(""), &v), -EINVAL);
	assert_int_equal(str_to_u32(STR("12a"), &v), -EINVAL);
	uint64_t w;
	assert_int_equal(str_to_u64(STR("99999999999999999999999"), &w), -ERANGE);
	char small[4];
	assert_int_equal(str_copy_cstr(STR("abcd"), small, sizeof(small)), -ENOSPC);
	assert_int_equal(str_copy_cstr(STR("abc"), small, sizeof(small)), 0);
	assert_string_equal(small, "abc");
}

static void test_buf(void **state)
{
	struct buf b;
	buf_init(&b);
	buf_append_cstr(&b, "SIP/2.0 ");
	buf_printf(&b, "%d %s", 200, "OK");
	assert_string_equal(b.p, "SIP/2.0 200 OK");
	char big[1000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_printf(&b, "%s", big);
	assert_int_equal(b.len, 14 + 999);
	size_t len;
	char *p = buf_steal(&b, &len);
	assert_non_null(p);
	assert_int_equal(len, 1013);
	free(p);
	assert_null(b.p);
}

static void test_net_addr(void **state)
{
	struct net_addr a, b;
	char s[NET_ADDR_STRLEN];
	assert_int_equal(net_addr_parse(&a, STR("127.0.0.1"), 5060), 0);
	assert_string_equal(net_addr_print(&a, s, sizeof(s)), "127.0.0.1:5060");
	assert_true(net_addr_is_loopback(&a));
	assert_int_equal(net_addr_parse(&b, STR("[::1]"), 5080), 0);
	assert_string_equal(net_addr_print(&b, s, sizeof(s)), "[::1]:5080");
	assert_true(net_addr_is_loopback(&b));
	assert_false(net_addr_eq(&a, &b));
	net_addr_set_port(&b, 5060);
	assert_int_equal(net_addr_port(&b), 5060);
	assert_int_equal(net_addr_parse(&a, STR("example.com"), 1), -EINVAL);
	assert_int_equal(net_addr_parse(&a, STR("1.2.3.4.5"), 1), -EINVAL);
	assert_int_equal(net_addr_parse(&a, STR("10.0.0.1"), 1), 0);
	assert_false(net_addr_is_loopback(&a));
}

static void test_ids(void **state)
{
	char u1[UUID_STRLEN], u2[UUID_STRLEN];
	uuid_generate(u1);
	uuid_generate(u2);
	assert_int_equal(strlen(u1), 36);
	assert_int_equal(u1[14], '4');
	assert_string_not_equal(u1, u2);
	char h[17];
	random_hex(h, 8);
	assert_int_equal(strlen(h), 16);
}

static void test_arena(void **state)
{
	struct arena a;
	arena_init(&a, 128);
	char *s1 = arena_strdup(&a, "hello");
	char *big = arena_alloc(&a, 1000); /* its own block */
	char *s2 = arena_printf(&a, "%s-%d", "call", 42);
	char *s3 = arena_strndup(&a, STR("abcdef"));
	assert_non_null(big);
	assert_string_equal(s1, "hello");
	assert_string_equal(s2, "call-42");
	assert_string_equal(s3, "abcdef");
	for (int i = 0; i < 1000; i++)
		assert_int_equal(big[i], 0);
	for (int i = 0; i < 200; i++)
		assert_non_null(arena_alloc(&a, 24));
	assert_string_equal(s1, "hello"); /* earlier allocations untouched */
	assert_int_equal((uintptr_t)arena_alloc(&a, 1) % _Alignof(max_align_t), 0);
	arena_fini(&a);
}

struct item {
	struct hmap_node node;
	int key;
};

static void test_hmap(void **state)
{
	struct hmap m;
	static struct item items[1000];
	hmap_init(&m);
	assert_null(hmap_first(&m, 1));
	for (int i = 0; i < 1000; i++) {
		items[i].key = i;
		/* many keys share a hash: chains must keep them apart */
		assert_int_equal(hmap_insert(&m, &items[i].node, (uint64_t)(i % 100)), 0);
	}
	assert_int_equal(m.count, 1000);
	int seen = 0;
	for (struct hmap_node *n = hmap_first(&m, 7); n; n = hmap_next(n)) {
		struct item *it = container_of(n, struct item, node);
		assert_int_equal(it->key % 100, 7);
		seen++;
	}
	assert_int_equal(seen, 10);
	for (int i = 0; i < 1000; i += 2)
		hmap_remove(&m, &items[i].node);
	assert_int_equal(m.count, 500);
	seen = 0;
	for (struct hmap_node *n = hmap_first(&m, 8); n; n = hmap_next(n))
		seen++;
	assert_int_equal(seen, 0); /* 8, 108, … were all even */
	hmap_fini(&m);
	assert_int_equal(hash_str_i(STR("Call-ID")), hash_str_i(STR("call-id")));
	assert_int_not_equal(hash_str(STR("Call-ID")), hash_str(STR("call-id")));
}

static void test_mkdir_p(void **state)
{
	char root[] = "/tmp/irisx-test-base-XXXXXX", path[256];
	struct stat st;
	assert_non_null(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/a/b/c", root);
	assert_int_equal(fs_mkdir_p(path, 0750, false), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(fs_mkdir_p(path, 0750, false), 0); /* exists: fine */
	/* parents only: the file name is not made a directory */
	snprintf(path, sizeof(path), "%s/d/e/file.wav", root);
	assert_int_equal(fs_mkdir_p(path, 0755, true), 0);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s/d/e", root);
	assert_int_equal(stat(path, &st), 0);
	/* a file in the way */
	snprintf(path, sizeof(path), "%s/d/e/f", root);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/d/e/f/g", root);
	assert_int_equal(fs_mkdir_p(path, 0750, false), -ENOTDIR);
	char long_path[5000];
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(fs_mkdir_p(long_path, 0750, false), -ENAMETOOLONG);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_compare), cmocka_unit_test(test_str_numbers),
		cmocka_unit_test(test_buf),	    cmocka_unit_test(test_net_addr),
		cmocka_unit_test(test_ids),	    cmocka_unit_test(test_arena),
		cmocka_unit_test(test_hmap),	    cmocka_unit_test(test_mkdir_p),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
