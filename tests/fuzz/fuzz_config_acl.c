/*
 * Fuzz target: CIDR parsing and ACL matching. The first line is a list
 * name / CIDR list as apply-inbound-acl would carry it; every following
 * 16 bytes are an address (IPv4 when the first byte is odd) checked against
 * the parsed nodes and against the built-in lists.
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct acl_set *builtins;
	struct config__acl_node nodes[64];
	size_t count = 0;

	if (!builtins) {
		struct arena arena = {0};
		struct config__vars vars = {0};
		struct config__ctx c = {.arena = &arena, .vars = &vars};
		if (config__acl_set_build(&c, NULL, &builtins) != 0)
			abort();
		arena_fini(&arena);
		config__vars_fini(&vars);
	}
	const uint8_t *nl = memchr(data, '\n', size);
	size_t first = nl ? (size_t)(nl - data) : size;
	char *name = malloc(first + 1);
	if (!name)
		return 0;
	memcpy(name, data, first);
	name[first] = '\0';

	struct str rest = str_make(name, first);
	while (rest.len && count < ARRAY_LEN(nodes)) {
		ptrdiff_t comma = str_find_char(rest, ',');
		struct str item = comma < 0 ? rest : str_make(rest.p, (size_t)comma);
		rest = comma < 0 ? STR_NULL
				 : str_make(rest.p + comma + 1, rest.len - (size_t)comma - 1);
		if (config__cidr_parse(item, &nodes[count]) == 0) {
			const struct config__acl_node *n = &nodes[count];
			size_t len = n->family == AF_INET ? 4 : 16;
			if (n->bits > len * 8)
				abort();
			nodes[count].allow = count % 2;
			count++;
		}
	}
	bool valid = acl_name_valid(builtins, name);
	for (size_t off = first + 1; off + 16 <= size; off += 16) {
		struct net_addr a;
		memset(&a, 0, sizeof(a));
		if (data[off] & 1) {
			a.u.in4.sin_family = AF_INET;
			memcpy(&a.u.in4.sin_addr, data + off + 1, 4);
		} else {
			a.u.in6.sin6_family = AF_INET6;
			memcpy(&a.u.in6.sin6_addr, data + off, 16);
		}
		config__acl_nodes_check(nodes, count, data[off] & 2, &a);
		bool allowed = acl_check(builtins, name, &a);
		if (allowed && !valid)
			abort(); /* only a known name can allow */
		acl_check(builtins, "wan.auto", &a);
		acl_check(builtins, "localnet.auto", &a);
	}
	free(name);
	return 0;
}
