/*
 * The REST resources of the HTTP API (docs/API.md, docs/openapi.json): each
 * route's handler turns a request into core calls on the loop and answers
 * JSON.
 */
#define LOG_MODULE "http"
#include "control/http_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void get_openapi(struct http_req *req, void *arg)
{
	http_reply(req, 200, "application/json", http__openapi_json, http__openapi_json_len);
}

int http__rest_register(struct http *h)
{
	return http_route_add(h, HTTP_GET, "/v1/openapi.json", HTTP_ROUTE_PUBLIC, get_openapi,
			      NULL);
}
