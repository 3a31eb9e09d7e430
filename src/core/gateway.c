/*
 * Gateways: the trunks of each profile (sofia.conf <gateway>), looked up by
 * name by dial strings (sofia/gateway/<name>/<number>).
 */
#include "core_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int core__gateways_init(struct core *core)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		size_t n = p->cfg->gateway_count;
		if (!n)
			continue;
		p->gateways = calloc(n, sizeof(*p->gateways));
		if (!p->gateways) {
			core__gateways_fini(core);
			return -ENOMEM;
		}
		for (size_t j = 0; j < n; j++) {
			p->gateways[j].profile = p;
			p->gateways[j].cfg = &p->cfg->gateways[j];
		}
	}
	return 0;
}

void core__gateways_fini(struct core *core)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		free(core->profiles[i].gateways);
		core->profiles[i].gateways = NULL;
	}
}

struct gateway *core__gateway_find(struct core *core, const char *name)
{
	for (size_t i = 0; i < core->profile_count; i++) {
		struct profile *p = &core->profiles[i];
		for (size_t j = 0; j < p->cfg->gateway_count; j++)
			if (strcmp(p->gateways[j].cfg->name, name) == 0)
				return &p->gateways[j];
	}
	return NULL;
}
