/*
 * tone_stream://: FreeSWITCH's tone scripts (TGML), parsed once at open and
 * generated on the fly at the rate each read asks for.
 *
 * A script is pieces separated by ';':
 *   %(ON,OFF,F1[,F2…])  a tone: ON ms of the frequencies summed (F may also
 *                       be separated by '+'; 0 adds nothing), then OFF ms of
 *                       silence. Several tones may follow each other in one
 *                       piece.
 *   0-9 A-D * #         a DTMF digit (ITU-T Q.23 pairs), for d= ms then w= ms
 *                       of silence; "7(ON,OFF)" gives one digit its own times.
 *   d=MS  w=MS          default on and off times of digits (2000, 500)
 *   v=DB                volume of following tones, -63..0 dB (default -7): the
 *                       peak of the sum of a tone's frequencies, relative to
 *                       full scale
 *   >=MS  <=MS  +=DB    every MS during a tone, lower (>) or raise (<) its
 *                       volume by +=DB (default 1), within -63..0
 *   l=N                 play each following tone N times in a row
 *   L=N                 play the whole script N times
 *   loops=N             play the whole script N times (-1: forever; 0 as 1)
 *   c=N  r=N            channels and rate: accepted for compatibility and
 *                       ignored, output is always mono at the caller's rate
 * Spaces and line breaks between items are skipped. Anything else, a number
 * out of range, or a script with nothing to play is -EINVAL.
 *
 * Differences from FreeSWITCH's generator, on purpose: the third DTMF row is
 * 852 Hz as Q.23 says; a volume or number out of range is an error rather
 * than silently ignored; frequencies at or above half the output rate are
 * muted rather than aliased.
 *
 * Each frequency is a phasor rotated by a fixed complex step per sample (four
 * multiplications, no table, no sin() per sample). Its phase carries over
 * from one read to the next and from one tone to the next when no silence
 * separates them, so frames join without clicks; after silence a tone starts
 * at phase zero.
 */
#include "media_play_int.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
	TONE_DEFAULT_ON_MS = 2000,
	TONE_DEFAULT_OFF_MS = 500,
	TONE_VOL_MIN_DB = -63,
	TONE_VOL_MAX_DB = 0,
	TONE_MAX_FREQ_HZ = 20000,
};
#define TONE_DEFAULT_VOL_DB -7.0f

/* ---- parsing ------------------------------------------------------------ */

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct str trim(struct str s)
{
	while (s.len && is_space(s.p[0]))
		s = str_make(s.p + 1, s.len - 1);
	while (s.len && is_space(s.p[s.len - 1]))
		s.len--;
	return s;
}

static int parse_u32(struct str s, uint32_t max, uint32_t *out)
{
	s = trim(s);
	uint32_t v;
	if (str_to_u32(s, &v) < 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* [+|-]digits[.digits] or [+|-].digits, into [lo, hi]. */
static int parse_decimal(struct str s, double lo, double hi, double *out)
{
	size_t i = 0, digits = 0;
	double v = 0, scale = 1;
	bool neg = false;

	s = trim(s);
	if (i < s.len && (s.p[i] == '+' || s.p[i] == '-'))
		neg = s.p[i++] == '-';
	for (; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, digits++) {
		v = v * 10 + (s.p[i] - '0');
		if (v > 1e9)
			return -EINVAL;
	}
	if (i < s.len && s.p[i] == '.') {
		for (i++; i < s.len && s.p[i] >= '0' && s.p[i] <= '9'; i++, digits++) {
			scale /= 10;
			v += (s.p[i] - '0') * scale;
		}
	}
	if (i != s.len || digits == 0)
		return -EINVAL;
	if (neg)
		v = -v;
	if (v < lo || v > hi)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_int(struct str s, int64_t lo, int64_t hi, int64_t *out)
{
	s = trim(s);
	bool neg = s.len && s.p[0] == '-';
	uint32_t v;
	if (str_to_u32(neg ? str_make(s.p + 1, s.len - 1) : s, &v) < 0)
		return -EINVAL;
	int64_t r = neg ? -(int64_t)v : (int64_t)v;
	if (r < lo || r > hi)
		return -EINVAL;
	*out = r;
	return 0;
}

/* The parser's running state: what the next tone inherits. */
struct tone_defaults {
	uint32_t on_ms, off_ms, repeat, decay_ms;
	float volume_db, decay_db;
	int8_t decay_dir;
};

static int dtmf_pair(char c, float f[2])
{
	static const char keys[] = "123A456B789C*0#D";
	static const float rows[4] = {697, 770, 852, 941};
	static const float cols[4] = {1209, 1336, 1477, 1633};
	if (c >= 'a' && c <= 'd')
		c = (char)(c - 'a' + 'A');
	const char *k = c ? strchr(keys, c) : NULL;
	if (!k)
		return -EINVAL;
	size_t i = (size_t)(k - keys);
	f[0] = rows[i / 4];
	f[1] = cols[i % 4];
	return 0;
}

static struct media__tone_seg *seg_add(struct media__tone_script *out,
				       const struct tone_defaults *d)
{
	if (out->nseg == MEDIA_TONE_MAX_SEGMENTS)
		return NULL;
	struct media__tone_seg *g = &out->seg[out->nseg++];
	memset(g, 0, sizeof(*g));
	g->on_ms = d->on_ms;
	g->off_ms = d->off_ms;
	g->repeat = d->repeat;
	g->volume_db = d->volume_db;
	g->decay_db = d->decay_db;
	g->decay_ms = d->decay_ms;
	g->decay_dir = d->decay_dir;
	return g;
}

/* The inside of "(…)": ON,OFF then, for '%', one or more frequencies. */
static int parse_args(struct str args, bool freqs, struct media__tone_seg *g)
{
	size_t field = 0;
	while (true) {
		size_t end = 0;
		while (end < args.len && args.p[end] != ',' && (field < 2 || args.p[end] != '+'))
			end++;
		struct str item = str_make(args.p, end);
		if (field == 0 || field == 1) {
			uint32_t ms;
			if (parse_u32(item, MEDIA_TONE_MAX_MS, &ms) < 0)
				return -EINVAL;
			*(field == 0 ? &g->on_ms : &g->off_ms) = ms;
		} else {
			double f;
			if (!freqs || g->nfreqs == MEDIA_TONE_MAX_FREQS ||
			    parse_decimal(item, 0, TONE_MAX_FREQ_HZ, &f) < 0)
				return -EINVAL;
			g->freqs[g->nfreqs++] = (float)f;
		}
		field++;
		if (end == args.len)
			break;
		args = str_make(args.p + end + 1, args.len - end - 1);
	}
	return (freqs ? field >= 3 : field == 2) ? 0 : -EINVAL;
}

/* A piece that is a sequence of tones and digits. */
static int parse_tones(struct str s, const struct tone_defaults *d, struct media__tone_script *out)
{
	size_t i = 0;
	while (i < s.len) {
		char c = s.p[i];
		if (is_space(c)) {
			i++;
			continue;
		}
		struct media__tone_seg *g = seg_add(out, d);
		if (!g)
			return -EINVAL;
		bool generic = c == '%';
		if (!generic) {
			float f[2];
			if (dtmf_pair(c, f) < 0)
				return -EINVAL;
			g->freqs[0] = f[0];
			g->freqs[1] = f[1];
			g->nfreqs = 2;
		}
		i++;
		if (i < s.len && s.p[i] == '(') {
			size_t close = i + 1;
			while (close < s.len && s.p[close] != ')')
				close++;
			if (close == s.len)
				return -EINVAL;
			struct media__tone_seg tmp = *g;
			tmp.nfreqs = generic ? 0 : tmp.nfreqs;
			if (parse_args(str_make(s.p + i + 1, close - i - 1), generic, &tmp) < 0)
				return -EINVAL;
			*g = tmp;
			i = close + 1;
		} else if (generic) {
			return -EINVAL; /* '%' needs its arguments */
		}
	}
	return 0;
}

static int parse_piece(struct str s, struct tone_defaults *d, int64_t *script_plays, int64_t *loops,
		       struct media__tone_script *out)
{
	if (str_starts_with_i(s, "loops=")) {
		int64_t v;
		if (parse_int(str_make(s.p + 6, s.len - 6), -1, MEDIA_TONE_MAX_REPEAT, &v) < 0)
			return -EINVAL;
		*loops = v == 0 ? 1 : v;
		return 0;
	}
	if (s.len < 2 || s.p[1] != '=')
		return parse_tones(s, d, out);

	struct str v = str_make(s.p + 2, s.len - 2);
	uint32_t u;
	double f;
	int64_t n;
	switch (s.p[0]) {
	case 'c':
		return parse_u32(v, 8, &u) < 0 || u == 0 ? -EINVAL : 0;
	case 'r':
		return parse_u32(v, MEDIA_PLAY_RATE_MAX, &u) < 0 || u < MEDIA_PLAY_RATE_MIN
			   ? -EINVAL
			   : 0;
	case 'd':
		return parse_u32(v, MEDIA_TONE_MAX_MS, &d->on_ms);
	case 'w':
		return parse_u32(v, MEDIA_TONE_MAX_MS, &d->off_ms);
	case 'v':
		if (parse_decimal(v, TONE_VOL_MIN_DB, TONE_VOL_MAX_DB, &f) < 0)
			return -EINVAL;
		d->volume_db = (float)f;
		return 0;
	case '>':
	case '<':
		if (parse_u32(v, MEDIA_TONE_MAX_MS, &d->decay_ms) < 0)
			return -EINVAL;
		d->decay_dir = s.p[0] == '>' ? -1 : 1;
		return 0;
	case '+':
		if (parse_decimal(v, 0, TONE_VOL_MAX_DB - TONE_VOL_MIN_DB, &f) < 0)
			return -EINVAL;
		d->decay_db = (float)f;
		return 0;
	case 'l':
		if (parse_int(v, 1, MEDIA_TONE_MAX_REPEAT, &n) < 0)
			return -EINVAL;
		d->repeat = (uint32_t)n;
		return 0;
	case 'L':
		if (parse_int(v, 1, MEDIA_TONE_MAX_REPEAT, &n) < 0)
			return -EINVAL;
		*script_plays = n;
		return 0;
	default:
		return -EINVAL;
	}
}

int media__tone_parse(struct str spec, struct media__tone_script *out)
{
	struct tone_defaults d = {
	    .on_ms = TONE_DEFAULT_ON_MS,
	    .off_ms = TONE_DEFAULT_OFF_MS,
	    .repeat = 1,
	    .volume_db = TONE_DEFAULT_VOL_DB,
	    .decay_db = 1,
	};
	int64_t script_plays = 1, loops = 1;

	out->nseg = 0;
	while (spec.len) {
		ptrdiff_t semi = str_find_char(spec, ';');
		struct str piece = semi < 0 ? spec : str_make(spec.p, (size_t)semi);
		spec =
		    semi < 0 ? STR_NULL : str_make(spec.p + semi + 1, spec.len - (size_t)semi - 1);
		piece = trim(piece);
		if (piece.len && parse_piece(piece, &d, &script_plays, &loops, out) < 0)
			return -EINVAL;
	}
	uint64_t total_ms = 0;
	for (size_t i = 0; i < out->nseg; i++)
		total_ms += ((uint64_t)out->seg[i].on_ms + out->seg[i].off_ms) * out->seg[i].repeat;
	if (total_ms == 0)
		return -EINVAL; /* nothing to play, and a loop over it would never end */
	out->plays = loops < 0 ? -1 : script_plays * loops;
	return 0;
}

/* ---- generation --------------------------------------------------------- */

struct osc {
	double c, s;   /* the phasor: sin(phase) is the output */
	double wc, ws; /* its step per sample: cos and sin of 2π f / rate */
	float amp;
};

struct tone_source {
	struct media_source base;
	uint32_t rate;
	int64_t plays_left; /* -1: forever */
	size_t seg;	    /* current tone */
	uint32_t rep;	    /* its repetition */
	bool in_seg;	    /* lengths and oscillators set for seg */
	bool last_silent;   /* the previous sample period ended in silence */
	uint64_t pos;	    /* samples into the current tone (on then off) */
	uint64_t on_len, total_len, decay_len, decay_count;
	float vol_db;
	struct osc osc[MEDIA_TONE_MAX_FREQS];
	size_t nseg;
	struct media__tone_seg segs[];
};

static void set_amps(struct tone_source *t, const struct media__tone_seg *g)
{
	float peak = 32767.0f * powf(10.0f, t->vol_db / 20.0f);
	for (size_t i = 0; i < g->nfreqs; i++) {
		bool audible = g->freqs[i] > 0 && g->freqs[i] * 2 < (float)t->rate;
		t->osc[i].amp = audible ? peak / (float)g->nfreqs : 0;
	}
}

/* Lengths and steps of the current tone at t->rate; phases are kept. */
static void seg_rate(struct tone_source *t)
{
	const struct media__tone_seg *g = &t->segs[t->seg];
	t->on_len = (uint64_t)g->on_ms * t->rate / 1000;
	t->total_len = t->on_len + (uint64_t)g->off_ms * t->rate / 1000;
	t->decay_len = g->decay_dir ? (uint64_t)g->decay_ms * t->rate / 1000 : 0;
	for (size_t i = 0; i < g->nfreqs; i++) {
		double w = 2 * M_PI * g->freqs[i] / t->rate;
		t->osc[i].wc = cos(w);
		t->osc[i].ws = sin(w);
	}
	set_amps(t, g);
}

static void seg_start(struct tone_source *t)
{
	const struct media__tone_seg *g = &t->segs[t->seg];
	t->pos = 0;
	t->decay_count = 0;
	t->vol_db = g->volume_db;
	if (t->last_silent) {
		for (size_t i = 0; i < MEDIA_TONE_MAX_FREQS; i++) {
			t->osc[i].c = 1;
			t->osc[i].s = 0;
		}
	}
	seg_rate(t);
	t->in_seg = true;
}

static void seg_next(struct tone_source *t)
{
	t->in_seg = false;
	if (++t->rep < t->segs[t->seg].repeat)
		return;
	t->rep = 0;
	if (++t->seg < t->nseg)
		return;
	t->seg = 0;
	if (t->plays_left > 0)
		t->plays_left--;
}

static void set_rate(struct tone_source *t, uint32_t rate)
{
	uint32_t old = t->rate;
	t->rate = rate;
	if (!t->in_seg)
		return;
	t->pos = t->pos * rate / old;
	t->decay_count = t->decay_count * rate / old;
	seg_rate(t);
}

/* Keeps the phasors on the unit circle: rounding would drift them over
 * minutes of tone. One Newton step per read is plenty. */
static void renormalize(struct tone_source *t, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct osc *o = &t->osc[i];
		double k = (3.0 - (o->c * o->c + o->s * o->s)) / 2.0;
		o->c *= k;
		o->s *= k;
	}
}

static size_t tone_on(struct tone_source *t, int16_t *out, size_t n)
{
	const struct media__tone_seg *g = &t->segs[t->seg];
	size_t nf = g->nfreqs;
	for (size_t k = 0; k < n; k++) {
		if (t->decay_len && ++t->decay_count >= t->decay_len) {
			float v = t->vol_db + g->decay_dir * g->decay_db;
			if (v >= TONE_VOL_MIN_DB && v <= TONE_VOL_MAX_DB) {
				t->vol_db = v;
				set_amps(t, g);
			}
			t->decay_count = 0;
		}
		float sum = 0;
		for (size_t i = 0; i < nf; i++) {
			struct osc *o = &t->osc[i];
			double c = o->c * o->wc - o->s * o->ws;
			double s = o->c * o->ws + o->s * o->wc;
			o->c = c;
			o->s = s;
			sum += (float)s * o->amp;
		}
		/* |sum| <= 32767 but for rounding: clamp all the same. */
		long v = lrintf(sum);
		out[k] = (int16_t)(v > INT16_MAX ? INT16_MAX : v < -INT16_MAX ? -INT16_MAX : v);
	}
	renormalize(t, nf);
	return n;
}

static size_t tone_read(struct media_source *src, int16_t *pcm, size_t samples, uint32_t rate)
{
	struct tone_source *t = (struct tone_source *)src;
	size_t done = 0;

	if (rate && rate != t->rate)
		set_rate(t, rate);
	while (done < samples && t->plays_left != 0) {
		if (!t->in_seg)
			seg_start(t);
		size_t want = samples - done;
		if (t->pos < t->on_len) {
			uint64_t left = t->on_len - t->pos;
			size_t k = left < want ? (size_t)left : want;
			tone_on(t, pcm + done, k);
			t->pos += k;
			done += k;
			t->last_silent = false;
		} else if (t->pos < t->total_len) {
			uint64_t left = t->total_len - t->pos;
			size_t k = left < want ? (size_t)left : want;
			memset(pcm + done, 0, k * sizeof(*pcm));
			t->pos += k;
			done += k;
			t->last_silent = true;
		}
		if (t->pos >= t->total_len)
			seg_next(t);
	}
	return done;
}

static void tone_destroy(struct media_source *src)
{
	free(src);
}

static const struct media_source_ops tone_ops = {.read = tone_read, .destroy = tone_destroy};

int media__tone_source_create(struct media_source **out, const struct media__tone_script *script,
			      uint32_t rate)
{
	if (!script->nseg || script->nseg > MEDIA_TONE_MAX_SEGMENTS || script->plays == 0 ||
	    rate < MEDIA_PLAY_RATE_MIN || rate > MEDIA_PLAY_RATE_MAX)
		return -EINVAL;
	struct tone_source *t = calloc(1, sizeof(*t) + script->nseg * sizeof(t->segs[0]));
	if (!t)
		return -ENOMEM;
	t->base.ops = &tone_ops;
	t->rate = rate;
	t->plays_left = script->plays;
	t->last_silent = true;
	t->nseg = script->nseg;
	memcpy(t->segs, script->seg, script->nseg * sizeof(t->segs[0]));
	*out = &t->base;
	return 0;
}
