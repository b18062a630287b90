/*
 * The HTTP/1.1 pieces both file servers share (http_raw.c on the raw API,
 * http_epoll.c on the socket API): parsing a request head, mapping its path
 * to a file under the served directory, and writing a response head.  Only
 * what a static file server needs: GET and HEAD, no request bodies, no
 * ranges; keep-alive by default on HTTP/1.1 (RFC 9112 §9.3), on HTTP/1.0
 * only when asked for.  Everything is static inline, as in example_util.h.
 */
#ifndef SHUNT_HTTP_UTIL_H
#define SHUNT_HTTP_UTIL_H

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#define HTTP_HEAD_MAX	8192	/* longest request head we accept (431 beyond) */
#define HTTP_PATH_MAX	1024

enum http_method {
	HTTP_GET = 1,
	HTTP_HEAD,
	HTTP_OTHER,
};

struct http_req {
	enum http_method method;
	int keep_alive;
	int status;			/* 0, or the error status to answer with */
	char path[HTTP_PATH_MAX];	/* decoded, relative to the served directory */
};

static inline int
http_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/*
 * The target's path, percent-decoded, without query, with "index.html" for
 * a directory, as a path relative to the served directory.  -1 for targets
 * that would leave it ("..", NUL bytes) or do not fit.
 */
static inline int
http_decode_path(const char *t, size_t tlen, char *out, size_t cap)
{
	size_t i, o = 0;
	char *seg;

	if (tlen == 0 || t[0] != '/')
		return -1;
	for (i = 1; i < tlen && t[i] != '?' && t[i] != '#'; i++) {
		int c = (unsigned char)t[i];

		if (c == '%') {
			int h, l;

			if (i + 2 >= tlen || (h = http_hexval(t[i + 1])) < 0 || (l = http_hexval(t[i + 2])) < 0)
				return -1;
			c = h * 16 + l;
			i += 2;
		}
		if (c == 0 || o + 1 >= cap)
			return -1;
		/* Collapse repeated slashes, so that no component is empty. */
		if (c == '/' && (o == 0 || out[o - 1] == '/'))
			continue;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	/* No component may be ".." (nor "."): the path must stay under the directory. */
	for (seg = out; *seg != '\0';) {
		size_t n = strcspn(seg, "/");

		if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.'))
			return -1;
		seg += n;
		if (*seg == '/')
			seg++;
	}
	if (o == 0 || out[o - 1] == '/') {
		if (o + sizeof("index.html") > cap)
			return -1;
		strcpy(out + o, "index.html");
	}
	return 0;
}

/* Does the comma-separated header value v (length n) hold token tok, ignoring case? */
static inline int
http_has_token(const char *v, size_t n, const char *tok)
{
	size_t tl = strlen(tok), i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (e - s == tl && strncasecmp(v + s, tok, tl) == 0)
			return 1;
	}
	return 0;
}

/*
 * Looks for a complete request head in buf.  Returns 0 if more bytes are
 * needed, else the head's length (the request is in *r; r->status says
 * whether it must be refused), or -1 if the head is longer than
 * HTTP_HEAD_MAX without ending (answer 431 and close).
 */
static inline int
http_parse(const char *buf, size_t len, struct http_req *r)
{
	const char *end = NULL, *line, *sp1, *sp2, *eol;
	size_t i, hlen;
	int minor;

	for (i = 3; i < len; i++) {
		if (buf[i] == '\n' && buf[i - 1] == '\r' && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
			end = buf + i + 1;
			break;
		}
	}
	if (end == NULL)
		return len >= HTTP_HEAD_MAX ? -1 : 0;
	hlen = (size_t)(end - buf);
	memset(r, 0, sizeof(*r));
	/* Request line: METHOD SP target SP HTTP/1.x CRLF (RFC 9112 §3). */
	eol = memchr(buf, '\r', hlen);
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	sp2 = sp1 != NULL ? memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1)) : NULL;
	if (sp1 == NULL || sp2 == NULL || eol - sp2 != 9 || strncmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp2[8])) {
		r->status = 400;
		return (int)hlen;
	}
	minor = sp2[8] - '0';
	r->keep_alive = minor >= 1;
	if (sp1 - buf == 3 && memcmp(buf, "GET", 3) == 0)
		r->method = HTTP_GET;
	else if (sp1 - buf == 4 && memcmp(buf, "HEAD", 4) == 0)
		r->method = HTTP_HEAD;
	else
		r->method = HTTP_OTHER;
	if (http_decode_path(sp1 + 1, (size_t)(sp2 - sp1 - 1), r->path, sizeof(r->path)) != 0)
		r->status = 400;
	/* Header fields: Connection decides keep-alive; a body is more than we take. */
	for (line = eol + 2; line < end - 2; line = eol + 2) {
		const char *colon, *v;
		size_t vn;

		eol = memchr(line, '\r', (size_t)(end - line));
		colon = memchr(line, ':', (size_t)(eol - line));
		if (colon == NULL) {
			r->status = 400;
			break;
		}
		for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
			;
		vn = (size_t)(eol - v);
		if (colon - line == 10 && strncasecmp(line, "Connection", 10) == 0) {
			if (http_has_token(v, vn, "close"))
				r->keep_alive = 0;
			else if (http_has_token(v, vn, "keep-alive"))
				r->keep_alive = 1;
		} else if ((colon - line == 14 && strncasecmp(line, "Content-Length", 14) == 0 &&
		    !(vn == 1 && v[0] == '0')) ||
		    (colon - line == 17 && strncasecmp(line, "Transfer-Encoding", 17) == 0)) {
			/* We cannot skip a body we do not read: refuse and close. */
			r->status = 413;
			r->keep_alive = 0;
		}
	}
	if (r->status == 0 && r->method == HTTP_OTHER)
		r->status = 405;
	if (r->status == 400)
		r->keep_alive = 0;
	return (int)hlen;
}

/* Opens path under the served directory; a regular file only.  fd or -errno; *size its length. */
static inline int
http_open(int rootfd, const char *path, uint64_t *size)
{
	struct stat st;
	int fd = openat(rootfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -ENOENT;
	}
	*size = (uint64_t)st.st_size;
	return fd;
}

static inline const char *
http_mime(const char *path)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" }, { ".htm", "text/html; charset=utf-8" },
		{ ".txt", "text/plain; charset=utf-8" }, { ".css", "text/css" },
		{ ".js", "text/javascript" }, { ".json", "application/json" },
		{ ".png", "image/png" }, { ".jpg", "image/jpeg" }, { ".svg", "image/svg+xml" },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return "application/octet-stream";
}

static inline const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

/* A response head into out; its length (always fits: cap >= 256). */
static inline int
http_head(char *out, size_t cap, int status, const char *ctype, uint64_t clen, int keep_alive)
{
	return snprintf(out, cap,
	    "HTTP/1.1 %d %s\r\n"
	    "Server: shunt\r\n"
	    "Content-Type: %s\r\n"
	    "Content-Length: %llu\r\n"
	    "%s"
	    "Connection: %s\r\n"
	    "\r\n", status, http_reason(status), ctype, (unsigned long long)clen,
	    status == 405 ? "Allow: GET, HEAD\r\n" : "", keep_alive ? "keep-alive" : "close");
}

/* The body of an error response. */
static inline int
http_error_body(char *out, size_t cap, int status)
{
	return snprintf(out, cap, "%d %s\n", status, http_reason(status));
}

#endif
