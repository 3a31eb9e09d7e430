/*
 * Hangup causes: names and Q.850 numbers as FreeSWITCH spells them, and the
 * two SIP mappings FreeSWITCH users expect — cause → status when irisx
 * rejects or ends an unanswered call, status → cause when the far end does.
 */
#include "core.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const struct {
	const char *name;
	unsigned q850;
} causes[] = {
#define X(name, code) {#name, code},
	CORE_CAUSES(X)
#undef X
};
_Static_assert(ARRAY_LEN(causes) == CAUSE_COUNT, "cause table out of step with the enum");

static const char *const state_names[] = {
#define X(name) "CS_" #name,
	CORE_STATES(X)
#undef X
};

const char *channel_state_name(enum channel_state s)
{
	return (size_t)s < ARRAY_LEN(state_names) ? state_names[s] : "CS_UNKNOWN";
}

const char *core_cause_name(enum core_cause c)
{
	return (size_t)c < CAUSE_COUNT ? causes[c].name : "UNKNOWN";
}

unsigned core_cause_q850(enum core_cause c)
{
	return (size_t)c < CAUSE_COUNT ? causes[c].q850 : 0;
}

int core_cause_parse(const char *s, enum core_cause *out)
{
	if (!s || !*s)
		return -EINVAL;
	if (strspn(s, "0123456789") == strlen(s)) {
		unsigned long n = strtoul(s, NULL, 10);
		for (size_t i = 0; i < CAUSE_COUNT; i++) {
			if (causes[i].q850 == n) {
				*out = (enum core_cause)i;
				return 0;
			}
		}
		return -EINVAL;
	}
	for (size_t i = 0; i < CAUSE_COUNT; i++) {
		if (strcasecmp(causes[i].name, s) == 0) {
			*out = (enum core_cause)i;
			return 0;
		}
	}
	return -EINVAL;
}

uint16_t core_cause_to_sip(enum core_cause c)
{
	switch (c) {
	case CAUSE_UNALLOCATED_NUMBER:
	case CAUSE_NO_ROUTE_TRANSIT_NET:
	case CAUSE_NO_ROUTE_DESTINATION:
		return 404;
	case CAUSE_USER_BUSY:
		return 486;
	case CAUSE_NO_USER_RESPONSE:
		return 408;
	case CAUSE_NO_ANSWER:
	case CAUSE_SUBSCRIBER_ABSENT:
	case CAUSE_DESTINATION_OUT_OF_ORDER:
	case CAUSE_USER_NOT_REGISTERED:
	case CAUSE_NORMAL_UNSPECIFIED:
		return 480;
	case CAUSE_CALL_REJECTED:
	case CAUSE_DECLINE:
		return 603;
	case CAUSE_NUMBER_CHANGED:
	case CAUSE_REDIRECTION_TO_NEW_DESTINATION:
		return 410;
	case CAUSE_INVALID_NUMBER_FORMAT:
	case CAUSE_INVALID_URL:
		return 484;
	case CAUSE_FACILITY_REJECTED:
	case CAUSE_FACILITY_NOT_IMPLEMENTED:
	case CAUSE_SERVICE_NOT_IMPLEMENTED:
		return 501;
	case CAUSE_NORMAL_CIRCUIT_CONGESTION:
	case CAUSE_NETWORK_OUT_OF_ORDER:
	case CAUSE_NORMAL_TEMPORARY_FAILURE:
	case CAUSE_SWITCH_CONGESTION:
	case CAUSE_REQUESTED_CHAN_UNAVAIL:
	case CAUSE_BEARERCAPABILITY_NOTAVAIL:
	case CAUSE_SERVICE_UNAVAILABLE:
	case CAUSE_GATEWAY_DOWN:
	case CAUSE_SYSTEM_SHUTDOWN:
		return 503;
	case CAUSE_OUTGOING_CALL_BARRED:
	case CAUSE_INCOMING_CALL_BARRED:
	case CAUSE_BEARERCAPABILITY_NOTAUTH:
		return 403;
	case CAUSE_BEARERCAPABILITY_NOTIMPL:
	case CAUSE_INCOMPATIBLE_DESTINATION:
	case CAUSE_NOT_ACCEPTABLE:
		return 488;
	case CAUSE_RECOVERY_ON_TIMER_EXPIRE:
		return 504;
	case CAUSE_EXCHANGE_ROUTING_ERROR:
		return 483;
	case CAUSE_ORIGINATOR_CANCEL:
		return 487;
	case CAUSE_BUSY_EVERYWHERE:
		return 600;
	case CAUSE_DOES_NOT_EXIST_ANYWHERE:
		return 604;
	default:
		return 480; /* what FreeSWITCH answers for causes without an equivalent */
	}
}

enum core_cause core_cause_from_sip(uint16_t status)
{
	switch (status) {
	case 200:
		return CAUSE_NORMAL_CLEARING;
	case 401:
	case 402:
	case 403:
	case 407:
	case 603:
		return CAUSE_CALL_REJECTED;
	case 404:
		return CAUSE_UNALLOCATED_NUMBER;
	case 485:
	case 604:
		return CAUSE_NO_ROUTE_DESTINATION;
	case 408:
	case 504:
		return CAUSE_RECOVERY_ON_TIMER_EXPIRE;
	case 410:
		return CAUSE_NUMBER_CHANGED;
	case 413:
	case 414:
	case 416:
	case 420:
	case 421:
	case 423:
	case 505:
	case 513:
		return CAUSE_INTERWORKING;
	case 480:
		return CAUSE_NO_USER_RESPONSE;
	case 400:
	case 481:
	case 500:
	case 503:
		return CAUSE_NORMAL_TEMPORARY_FAILURE;
	case 486:
	case 600:
		return CAUSE_USER_BUSY;
	case 484:
		return CAUSE_INVALID_NUMBER_FORMAT;
	case 488:
	case 606:
		return CAUSE_INCOMPATIBLE_DESTINATION;
	case 502:
		return CAUSE_NETWORK_OUT_OF_ORDER;
	case 405:
		return CAUSE_SERVICE_UNAVAILABLE;
	case 406:
	case 415:
	case 501:
		return CAUSE_SERVICE_NOT_IMPLEMENTED;
	case 482:
	case 483:
		return CAUSE_EXCHANGE_ROUTING_ERROR;
	case 487:
		return CAUSE_ORIGINATOR_CANCEL;
	default:
		return CAUSE_NORMAL_UNSPECIFIED;
	}
}
