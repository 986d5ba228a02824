# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled inner loops of bot.nlp, for the serving path (a classification should cost about what
tokenisation costs, and tokenisation is Rust).

``Scorer``: the category model's features -> TF-IDF -> linear scores in one pass; ``calibrated``: its
probabilities. ``clean_characters`` / ``squeeze``: the character passes of ``normalize``;
``needs_thai_normalize``, ``maybe_url``, ``longest_digit_run``: cheap first looks that let costly regex
passes be skipped (each may say yes too often, never too rarely; tests check it on every shared text).

Why compiled: a message makes ~500 feature strings (word uni/bigrams, character 2-4-grams). Building them
as Python strings and looking each up in a dict cost ~5x the tokeniser itself; here each feature is hashed
straight from the text's code points (64-bit FNV-1a, then a mixer) and looked up in an open-addressing
table of the vocabulary's hashes, with no string made at all. The definitions are those of
``bot.nlp.features.features`` exactly (tests compare the two on real complaints); training keeps the
readable Python path and ``siang nlp train`` writes the vocabulary as strings, hashed here at load time.

A ``Scorer`` keeps per-call counts in its table and never releases the GIL, so concurrent Python threads
are serialised around each call (as they are anyway); it must not be changed to run without the GIL.
"""

from libc.math cimport exp, log, sqrt
from libc.stdint cimport int8_t, int32_t, uint64_t
from cpython.unicode cimport (Py_UNICODE_ISDECIMAL, Py_UNICODE_ISSPACE, PyUnicode_4BYTE_KIND,
                              PyUnicode_FromKindAndData)
from libc.stdlib cimport free, malloc

cdef uint64_t FNV_OFFSET = 14695981039346656037ULL
cdef uint64_t FNV_PRIME = 1099511628211ULL
# Must match bot.nlp.features: MAX_CHARS and CHAR_NGRAMS (2, 3, 4).
cdef enum:
    PREFETCH = 8  # keys probed ahead of use
    MAX_CHARS = 2000
    MIN_N = 2
    MAX_N = 4


cdef inline uint64_t _step(uint64_t h, Py_UCS4 c) noexcept:
    h ^= <uint64_t>c
    return h * FNV_PRIME


cdef inline uint64_t _finish(uint64_t h) noexcept:
    # splitmix64 finaliser: spreads FNV's low bits so the table can use the low bits as its slot.
    h ^= h >> 30
    h *= 0xbf58476d1ce4e5b9ULL
    h ^= h >> 27
    h *= 0x94d049bb133111ebULL
    h ^= h >> 31
    return h


cdef inline uint64_t _feed(uint64_t h, str s) noexcept:
    cdef Py_UCS4 c
    for c in s:
        h = _step(h, c)
    return h


cpdef uint64_t feature_key(str feature):
    """The 64-bit key of one feature string as ``bot.nlp.features.features`` writes it (e.g. ``"c:ถนน"``)."""
    return _finish(_feed(FNV_OFFSET, feature))


cdef extern from *:
    """
    #define siang_prefetch(p) __builtin_prefetch((const void *)(p))
    """
    void prefetch "siang_prefetch" (const void* p) noexcept


ctypedef struct Slot:
    uint64_t key
    int32_t index  # -1: empty
    int32_t count  # occurrences in the text being scored (kept in the slot: one cache line per feature)


cdef class Scorer:
    """Raw decision scores of the linear model for a normalised text and its tokens."""

    cdef Slot* slots
    cdef uint64_t mask
    cdef int32_t* touched  # slots counted in the text being scored
    cdef const float[:] idf
    cdef const float[:] scale
    cdef const int8_t[:, ::1] coef
    cdef const float[:] intercept
    cdef Py_ssize_t n_classes
    cdef uint64_t h_word, h_bigram, h_char

    def __cinit__(self, list vocabulary, const float[:] idf, const int8_t[:, ::1] coef, const float[:] scale,
                  const float[:] intercept):
        """Weights as int8 rows with one scale per feature (``coef[f] * scale[f]``): a row is 23 bytes, one
        cache line, where float32 took two or three."""
        cdef Py_ssize_t n = len(vocabulary), size = 1, i
        cdef uint64_t key, slot
        if (coef.shape[0] != n or idf.shape[0] != n or scale.shape[0] != n
                or intercept.shape[0] != coef.shape[1]):
            raise ValueError("vocabulary, idf, coef and intercept disagree in size")
        if coef.shape[1] > 64:
            raise ValueError("more than 64 classes")
        while size * 2 < n * 3 + 2:  # load factor <= 2/3
            size <<= 1
        self.mask = size - 1
        self.slots = <Slot*>malloc(size * sizeof(Slot))
        self.touched = <int32_t*>malloc((n + 1) * sizeof(int32_t))
        if not (self.slots and self.touched):
            raise MemoryError()
        for i in range(size):
            self.slots[i].index = -1
        for i in range(n):
            key = feature_key(vocabulary[i])
            slot = key & self.mask
            while self.slots[slot].index >= 0:
                if self.slots[slot].key == key:
                    raise ValueError(f"two vocabulary entries share a key: {vocabulary[i]!r}")
                slot = (slot + 1) & self.mask
            self.slots[slot].key = key
            self.slots[slot].index = <int32_t>i
            self.slots[slot].count = 0
        self.idf, self.coef, self.scale, self.intercept = idf, coef, scale, intercept
        self.n_classes = coef.shape[1]
        self.h_word = _feed(FNV_OFFSET, "w:")
        self.h_bigram = _feed(FNV_OFFSET, "b:")
        self.h_char = _feed(FNV_OFFSET, "c:")

    def __dealloc__(self):
        free(self.slots)
        free(self.touched)

    cdef inline Py_ssize_t _count(self, uint64_t key, Py_ssize_t n_touched) noexcept:
        cdef uint64_t slot = key & self.mask
        cdef int32_t i
        while True:
            i = self.slots[slot].index
            if i < 0:
                return n_touched
            if self.slots[slot].key == key:
                if self.slots[slot].count == 0:
                    self.touched[n_touched] = <int32_t>slot
                    n_touched += 1
                self.slots[slot].count += 1
                return n_touched
            slot = (slot + 1) & self.mask

    def scores(self, str normalized, list tokens, float[:] out):
        """Write the class scores of (``normalized``, ``tokens``) into ``out`` (length = classes).

        Three passes so memory reads overlap: hash every feature, then probe the table (prefetching a few
        keys ahead), then add up the weight rows of the features found (prefetching those too).
        """
        cdef Py_ssize_t n_touched = 0, n_keys = 0, i, k, n, length, c
        cdef uint64_t h
        cdef str token, previous = None
        cdef Py_UCS4 chars[MAX_CHARS + 2]
        cdef int32_t f, slot
        cdef double v, w, norm2 = 0.0
        cdef double acc[64]
        cdef Py_ssize_t n_chars = min(len(normalized), MAX_CHARS)
        cdef uint64_t* keys = <uint64_t*>malloc((2 * len(tokens) + 3 * (n_chars + 2) + 1) * sizeof(uint64_t))
        if keys == NULL:
            raise MemoryError()
        for token in tokens:
            keys[n_keys] = _finish(_feed(self.h_word, token))
            n_keys += 1
            if previous is not None:
                keys[n_keys] = _finish(_feed(_step(_feed(self.h_bigram, previous), u"_"), token))
                n_keys += 1
            previous = token
        # " " + normalized[:MAX_CHARS] + " ", as code points
        length = 1
        chars[0] = u" "
        for c in range(n_chars):
            chars[length] = normalized[c]
            length += 1
        chars[length] = u" "
        length += 1
        for n in range(MIN_N, MAX_N + 1):
            for i in range(length - n + 1):
                h = self.h_char
                for k in range(n):
                    h = _step(h, chars[i + k])
                keys[n_keys] = _finish(h)
                n_keys += 1
        for i in range(min(n_keys, PREFETCH)):
            prefetch(&self.slots[keys[i] & self.mask])
        for i in range(n_keys):
            if i + PREFETCH < n_keys:
                prefetch(&self.slots[keys[i + PREFETCH] & self.mask])
            n_touched = self._count(keys[i], n_touched)
        free(keys)
        for k in range(self.n_classes):
            acc[k] = 0.0
        for i in range(n_touched):
            if i + PREFETCH < n_touched:
                prefetch(&self.coef[self.slots[self.touched[i + PREFETCH]].index, 0])
            slot = self.touched[i]
            f = self.slots[slot].index
            v = (1.0 + log(<double>self.slots[slot].count)) * self.idf[f]
            self.slots[slot].count = 0
            norm2 += v * v
            w = v * self.scale[f]
            for k in range(self.n_classes):
                acc[k] += w * self.coef[f, k]
        norm2 = sqrt(norm2) if norm2 > 0 else 1.0
        for k in range(self.n_classes):
            out[k] = <float>(acc[k] / norm2 + self.intercept[k])


cdef inline bint _mark(Py_UCS4 c) noexcept:
    return 0x0E30 <= c <= 0x0E4E


cdef inline bint _tone(Py_UCS4 c) noexcept:
    return 0x0E48 <= c <= 0x0E4B


cpdef bint needs_thai_normalize(str text):
    """True when PyThaiNLP's ``normalize`` may change more than ``bot.nlp.normalize`` does anyway: stacked,
    repeated or misordered Thai marks and vowels, a mark after a space or at the start, lakkhangyao.
    It runs ~20 regexes (~70 us), so it is skipped for the ~96% of messages without any of these."""
    cdef Py_ssize_t i, j, n = len(text)
    cdef Py_UCS4 a, b, prev = u" "
    for i in range(n):
        a = text[i]
        if a == 0x0E45:
            return True
        if (a == 0x0E31 or 0x0E34 <= a <= 0x0E3A or 0x0E47 <= a <= 0x0E4E) and Py_UNICODE_ISSPACE(prev):
            return True
        prev = a
        if i + 1 == n or not _mark(a):
            continue
        b = text[i + 1]
        if b == u" ":  # the same vowel or mark again after spaces ("เ เ", "า า")
            j = i + 1
            while j < n and text[j] == u" ":
                j += 1
            if j < n and text[j] == a:
                return True
            continue
        if not _mark(b):
            continue
        if (a == b
                or ((_tone(a) or a == 0x0E4C) and (b == 0x0E31 or 0x0E34 <= b <= 0x0E3A or b == 0x0E47 or b == 0x0E4D))
                or ((a == 0x0E30 or a == 0x0E32 or a == 0x0E33) and _tone(b))
                or (a == 0x0E4D and (b == 0x0E32 or (_tone(b) and i + 2 < n and text[i + 2] == 0x0E32)))
                or (_tone(a) and _tone(b))
                or (0x0E34 <= a <= 0x0E37 and 0x0E34 <= b <= 0x0E37)
                or (0x0E38 <= a <= 0x0E3A and 0x0E38 <= b <= 0x0E3A)):
            return True
    return False


cdef inline bint _zero_width(Py_UCS4 c) noexcept:
    return (0x200B <= c <= 0x200F or 0x202A <= c <= 0x202E or 0x2060 <= c <= 0x2064 or c == 0xFEFF
            or c == 0x00AD)


cdef inline bint _control(Py_UCS4 c) noexcept:
    return (c <= 0x08 or 0x0B <= c <= 0x1F or 0x7F <= c <= 0x9F or 0xD800 <= c <= 0xDFFF or c == 0xFFFD)


cdef str _from_buffer(Py_UCS4* buf, Py_ssize_t length):
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, buf, length)


cpdef str clean_characters(str text):
    """First pass of ``normalize``: CR -> LF, tab -> space, control characters and lone surrogates ->
    space, zero-width and invisible formatting characters removed, Thai digits -> ASCII digits."""
    cdef Py_ssize_t n = len(text), length = 0
    cdef Py_UCS4 c
    cdef Py_UCS4* buf = <Py_UCS4*>malloc((n + 1) * sizeof(Py_UCS4))
    if buf == NULL:
        raise MemoryError()
    try:
        for c in text:
            if c == u"\r":
                c = u"\n"
            elif c == u"\t" or _control(c):
                c = u" "
            elif _zero_width(c):
                continue
            elif 0x0E50 <= c <= 0x0E59:
                c = <Py_UCS4>(<unsigned int>c - 0x0E20)  # ๐..๙ -> 0..9
            buf[length] = c
            length += 1
        return _from_buffer(buf, length)
    finally:
        free(buf)


cpdef str squeeze(str text):
    """Last pass of ``normalize``: three or more of the same character (not a digit or space) -> one,
    repeated mai yamok (``ๆ ๆ``) -> one, every run of whitespace -> one space, ends stripped."""
    cdef Py_ssize_t n = len(text), length = 0, i = 0, j
    cdef Py_UCS4 c
    cdef bint space = False
    cdef Py_UCS4* buf = <Py_UCS4*>malloc((n + 1) * sizeof(Py_UCS4))
    if buf == NULL:
        raise MemoryError()
    try:
        while i < n:
            c = text[i]
            if Py_UNICODE_ISSPACE(c):
                space = True
                i += 1
                continue
            if space and length > 0:
                buf[length] = u" "
                length += 1
            space = False
            j = i + 1
            if not Py_UNICODE_ISDECIMAL(c):
                while j < n and text[j] == c:
                    j += 1
            if j - i >= 3 or c == u"ๆ":
                buf[length] = c
                length += 1
            else:
                while i < j:
                    buf[length] = c
                    length += 1
                    i += 1
            i = j
            if c == u"ๆ":  # ๆ(\s*ๆ)+ -> ๆ
                while True:
                    j = i
                    while j < n and Py_UNICODE_ISSPACE(text[j]):
                        j += 1
                    if j < n and text[j] == u"ๆ":
                        i = j + 1
                    else:
                        break
        return _from_buffer(buf, length)
    finally:
        free(buf)


cpdef void calibrated(const float[:] scores, double temperature, const double[:] xs, const double[:] ys,
                      double[:] out):
    """Calibrated probabilities into ``out``: softmax of temperature-scaled scores, then the top one mapped
    through the isotonic knots (``xs``, ``ys``; linear between knots, clipped at the ends) and the rest
    rescaled to sum to one, never below the runner-up (the top stays the top)."""
    cdef Py_ssize_t k, n = scores.shape[0], top = 0, m = xs.shape[0], i
    cdef double z, zmax = scores[0] * temperature, total = 0.0, p_top, rest, c, second = 0.0
    for k in range(1, n):
        z = scores[k] * temperature
        if z > zmax:
            zmax = z
            top = k
    for k in range(n):
        out[k] = exp(scores[k] * temperature - zmax)
        total += out[k]
    for k in range(n):
        out[k] /= total
    p_top = out[top]
    rest = 1.0 - p_top
    if m < 2 or rest <= 1e-9:
        return
    if p_top <= xs[0]:
        c = ys[0]
    elif p_top >= xs[m - 1]:
        c = ys[m - 1]
    else:
        i = 1
        while xs[i] <= p_top:  # first knot above p_top (np.interp's convention for equal knots)
            i += 1
        c = ys[i - 1] if xs[i] == xs[i - 1] else ys[i - 1] + (ys[i] - ys[i - 1]) * (p_top - xs[i - 1]) / (xs[i] - xs[i - 1])
    for k in range(n):
        if k != top and out[k] > second:
            second = out[k]
    c = min(max(c, second / (rest + second)), 1.0)
    for k in range(n):
        out[k] = c if k == top else out[k] * (1.0 - c) / rest


cpdef Py_ssize_t longest_digit_run(str text):
    """Digits in the longest run of decimal digits (any script, as the patterns' ``\\d``) in which each pair
    is at most one ``' '``, ``'-'`` or ``'.'`` apart: a phone number needs 9, a citizen ID 13, so shorter runs
    rule both patterns out."""
    cdef Py_ssize_t best = 0, run = 0
    cdef bint gap = False
    cdef Py_UCS4 c
    for c in text:
        if Py_UNICODE_ISDECIMAL(c):
            run += 1
            gap = False
            if run > best:
                best = run
        elif (c == u" " or c == u"-" or c == u".") and run and not gap:
            gap = True
        else:
            run = 0
            gap = False
    return best


cdef inline Py_UCS4 _lower_ascii(Py_UCS4 c) noexcept:
    return <Py_UCS4>(<unsigned int>c + 32) if 0x41 <= c <= 0x5A else c


cdef bint _at(str text, Py_ssize_t i, str word) noexcept:
    """``text[i:]`` starts with ``word`` (lower-case ASCII), ignoring ASCII case."""
    cdef Py_ssize_t k, n = len(word)
    cdef Py_UCS4 a, b
    if i + n > len(text):
        return False
    for k in range(n):
        a = text[i + k]
        b = word[k]
        if _lower_ascii(a) != b:
            return False
    return True


cpdef bint maybe_url(str text):
    """False when no link can be in ``text``: no ``://``, no ``www.`` and no dot before a top-level domain
    the link pattern knows (com, net, org, co.th, go.th, in.th, ly, me), in any case."""
    cdef Py_ssize_t i, n = len(text)
    cdef Py_UCS4 c
    for i in range(n):
        c = text[i]
        if c == u":":
            if _at(text, i, "://"):
                return True
        elif c == u"w" or c == u"W":
            if _at(text, i, "www."):
                return True
        elif c == u".":
            if (_at(text, i, ".com") or _at(text, i, ".net") or _at(text, i, ".org") or _at(text, i, ".co.th")
                    or _at(text, i, ".go.th") or _at(text, i, ".in.th") or _at(text, i, ".ly")
                    or _at(text, i, ".me")):
                return True
    return False
