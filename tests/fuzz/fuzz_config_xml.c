/*
 * Fuzz target: the whole configuration loader (libxml2 parse, preprocessor,
 * $${} expansion, typed sections, ACL lists) on one root file held in
 * memory. Includes are confined to an empty directory, so the input cannot
 * reach files elsewhere; globs match nothing and plain includes fail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config_int.h"

static char dir[64];

static void dir_remove(void)
{
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *cfg = NULL;
	char err[256];

	if (!dir[0]) {
		snprintf(dir, sizeof(dir), "/tmp/irisx-fuzz-config-XXXXXX");
		if (!mkdtemp(dir))
			abort();
		atexit(dir_remove);
		log_set_level(LOG_ERR); /* warnings are the normal case here */
	}
	int rc = config__load_mem(&cfg, dir, data, size, true, err, sizeof(err));
	if (rc == 0) {
		/* Walk what came out, as later modules will. */
		for (size_t i = 0; i < cfg->profile_count; i++) {
			const struct config_profile *p = &cfg->profiles[i];
			if (!p->sip_ip || !p->rtp_ip || !p->context || strlen(p->name) == 0)
				abort();
			for (size_t j = 0; j < p->inbound_acl_count; j++)
				if (!acl_name_valid(cfg->acls, p->inbound_acls[j]))
					abort();
		}
		if (cfg->sw.rtp_start_port >= cfg->sw.rtp_end_port || cfg->sw.rtp_start_port % 2)
			abort();
		config_free(cfg);
	} else if (cfg || err[0] == '\0') {
		abort(); /* a failure always says why, and hands nothing out */
	}
	return 0;
}
