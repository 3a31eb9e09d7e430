/*
 * event_socket.conf's <settings> for the Event Socket, and the password
 * kept in <state_dir>/esl_password when none is configured: irisx never
 * listens with a well-known default (FreeSWITCH's ClueCon is refused unless
 * allow-default-password says otherwise). secret_load()
 * (control_secret.c) keeps that file.
 */
#define LOG_MODULE "esl"
#include "config/config.h"
#include "control/control.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

int esl_settings_load(struct esl_settings *out, const struct config *cfg, const char *state_dir,
		      char *err, size_t err_size)
{
	struct esl_settings s = {
	    .listen_ip = "127.0.0.1", .listen_port = 8021, .queue_max = ESL_QUEUE_MAX_DEFAULT};
	const struct config_node *conf = cfg ? config_section(cfg, "event_socket.conf") : NULL;
	const struct config_node *settings = conf ? config_node_child(conf, "settings") : NULL;
	const struct config_node *pw_node = NULL;
	bool allow_default = false;

	if (cfg)
		s.acls = cfg->acls;
	for (const struct config_node *p = settings ? config_node_child(settings, "param") : NULL;
	     p; p = config_node_next(p, "param")) {
		const char *name = config_node_attr(p, "name");
		const char *value = config_node_attr(p, "value");
		if (!name || !value)
			continue;
		if (strcasecmp(name, "listen-ip") == 0) {
			snprintf(s.listen_ip, sizeof(s.listen_ip), "%s", value);
		} else if (strcasecmp(name, "listen-port") == 0) {
			uint32_t port;
			if (str_to_u32(str_from_cstr(value), &port) != 0 || port == 0 ||
			    port > 65535) {
				snprintf(err, err_size, "%s:%u: bad listen-port '%s'", p->file,
					 p->line, value);
				return -EINVAL;
			}
			s.listen_port = (uint16_t)port;
		} else if (strcasecmp(name, "password") == 0) {
			snprintf(s.password, sizeof(s.password), "%s", value);
			pw_node = p;
		} else if (strcasecmp(name, "apply-inbound-acl") == 0) {
			if (cfg && !acl_name_valid(cfg->acls, value)) {
				snprintf(err, err_size, "%s:%u: unknown ACL '%s'", p->file, p->line,
					 value);
				return -EINVAL;
			}
			snprintf(s.inbound_acl, sizeof(s.inbound_acl), "%s", value);
		} else if (strcasecmp(name, "allow-default-password") == 0) {
			allow_default = config_is_true(value);
		} else if (strcasecmp(name, "event-queue-size") == 0) {
			uint32_t n;
			if (str_to_u32(str_from_cstr(value), &n) == 0 && n > 0)
				s.queue_max = n;
		}
	}
	if (pw_node && strcmp(s.password, "ClueCon") == 0 && !allow_default) {
		snprintf(err, err_size,
			 "%s:%u: the well-known password ClueCon is refused; choose another or "
			 "set allow-default-password to true",
			 pw_node->file, pw_node->line);
		return -EINVAL;
	}
	if (!s.password[0]) {
		int e = secret_load(state_dir, "esl_password", "event socket password", 16,
					    s.password, sizeof(s.password), err, err_size);
		if (e)
			return e;
	}
	*out = s;
	return 0;
}
