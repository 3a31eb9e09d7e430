/*
 * The Event Socket server: its settings (event_socket.conf), the listener,
 * the single subscription to the core's event bus that fans events out to
 * the connections' bounded queues, and the idle handle that runs background
 * jobs and writes queued events on a later loop turn.
 */
#define LOG_MODULE "esl"
#include "control/esl_int.h"
#include "config/config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int password_file(struct esl_settings *s, const char *state_dir, char *err, size_t err_size)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/esl_password", state_dir ? state_dir : ".");
	FILE *f = fopen(path, "r");
	if (f) {
		char line[sizeof(s->password)] = "";
		bool ok = fgets(line, sizeof(line), f) != NULL;
		fclose(f);
		line[strcspn(line, "\r\n")] = '\0';
		if (ok && line[0]) {
			snprintf(s->password, sizeof(s->password), "%s", line);
			log_info("event socket password read from %s", path);
			return 0;
		}
	} else if (errno != ENOENT) {
		snprintf(err, err_size, "%s: %s", path, strerror(errno));
		return -errno;
	}
	char pw[25];
	random_hex(pw, 24);
	pw[24] = '\0';
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		int e = errno;
		snprintf(err, err_size, "%s: %s", path, strerror(e));
		return -e;
	}
	fchmod(fd, 0600);
	char line[32];
	int n = snprintf(line, sizeof(line), "%s\n", pw);
	bool ok = write(fd, line, (size_t)n) == n;
	close(fd);
	if (!ok) {
		snprintf(err, err_size, "%s: cannot write", path);
		return -EIO;
	}
	snprintf(s->password, sizeof(s->password), "%s", pw);
	log_notice("no event socket password configured: generated one in %s", path);
	return 0;
}

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
		int e = password_file(&s, state_dir, err, err_size);
		if (e)
			return e;
	}
	*out = s;
	return 0;
}

static void on_event(void *arg, struct core_event *ev)
{
	struct esl *esl = arg;
	for (struct esl_conn *c = esl->conns; c; c = c->next)
		esl__conn_offer(c, ev);
}

static void idle_cb(uv_idle_t *h)
{
	struct esl *esl = h->data;
	esl__jobs_run(esl);
	/* A flush may add the connection back (write room freed later). */
	struct esl_conn *list = esl->flush_list;
	esl->flush_list = NULL;
	while (list) {
		struct esl_conn *c = list;
		list = c->flush_next;
		c->flush_pending = false;
		esl__conn_flush(c);
	}
	if (!esl->jobs && !esl->flush_list)
		uv_idle_stop(&esl->idle);
}

void esl__wake(struct esl *esl)
{
	if (!esl->destroyed)
		uv_idle_start(&esl->idle, idle_cb);
}

static void listen_cb(uv_stream_t *s, int status)
{
	struct esl *esl = s->data;
	if (status < 0) {
		log_warn("accept: %s", uv_strerror(status));
		return;
	}
	esl__accept(esl);
}

static void server_handle_closed(uv_handle_t *h)
{
	struct esl *esl = h->data;
	if (--esl->open_handles == 0)
		free(esl);
}

int esl_create(struct esl **out, uv_loop_t *loop, struct core *core, struct dialplan *dp,
	       const struct esl_settings *settings)
{
	struct net_addr addr;
	struct esl *esl = calloc(1, sizeof(*esl));
	int rc;

	if (!esl)
		return -ENOMEM;
	esl->loop = loop;
	esl->core = core;
	esl->dp = dp;
	esl->set = *settings;
	esl->jobs_tail = &esl->jobs;
	rc = net_addr_parse(&addr, str_from_cstr(settings->listen_ip), settings->listen_port);
	if (rc) {
		log_err("event socket: bad listen-ip '%s'", settings->listen_ip);
		free(esl);
		return rc;
	}
	uv_tcp_init(loop, &esl->listener);
	uv_idle_init(loop, &esl->idle);
	esl->listener.data = esl;
	esl->idle.data = esl;
	esl->open_handles = 2;
	rc = uv_tcp_bind(&esl->listener, (const struct sockaddr *)&addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&esl->listener, 64, listen_cb);
	if (rc == 0)
		rc = core_subscribe(core, on_event, esl, &esl->sub);
	if (rc) {
		log_err("event socket: cannot listen on %s:%u: %s", settings->listen_ip,
			settings->listen_port, uv_strerror(rc));
		esl->destroyed = true;
		uv_close((uv_handle_t *)&esl->listener, server_handle_closed);
		uv_close((uv_handle_t *)&esl->idle, server_handle_closed);
		return rc;
	}
	log_notice("event socket listening on %s:%u", settings->listen_ip, esl_port(esl));
	*out = esl;
	return 0;
}

uint16_t esl_port(const struct esl *esl)
{
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	if (uv_tcp_getsockname(&esl->listener, (struct sockaddr *)&ss, &len) != 0)
		return 0;
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void esl_stats_get(const struct esl *esl, struct esl_stats *out)
{
	*out = esl->stats;
}

void esl_destroy(struct esl *esl)
{
	if (!esl || esl->destroyed)
		return;
	esl->destroyed = true;
	if (esl->sub)
		core_unsubscribe(esl->sub);
	esl->sub = NULL;
	while (esl->jobs) {
		struct esl_job *j = esl->jobs;
		esl->jobs = j->next;
		free(j->cmd);
		free(j);
	}
	while (esl->conns)
		esl__conn_close(esl->conns); /* unlinks it */
	esl->flush_list = NULL;
	uv_close((uv_handle_t *)&esl->listener, server_handle_closed);
	uv_close((uv_handle_t *)&esl->idle, server_handle_closed);
}
