/* The caller's path of a parsed OpenAI result, in C: read its usage and queue its flat record; and
 * a sync chat stream relayed and ended in C.
 *
 * `settle(call, result)` does what `openai._completion_fields` then `CallHandle.settled` do for the
 * usual result (ChatCompletion, Completion, CreateEmbeddingResponse: plain int counts, a usage layout
 * `_flat` has learned, no extras, at most one choice and no tool calls, nobody counting at once) and
 * returns True; for anything else it returns False having changed nothing, and the Python path
 * (which it mirrors, and which tests compare it with) handles the call.
 *
 * `begin(adapter, client, options, stream, is_async)` starts a `Call` as `_call.begin` then
 * `runs.calls.open_call` do, where nothing asks for more (no budget, no `call_start` subscriber, a
 * known request path and base URL); else it returns what the Python `begin` returns.
 *
 * `Proxy(stream, iterator, call, hide, settle)` is a sync chat/completions stream as the user sees it
 * (`_stream.StreamProxy`'s forwarding, `isinstance` included) with `ChunkWatcher`'s relay and the call's
 * end in one object: each chunk's `usage` read in place (unmarked when tokentrail asked for it, `hide`),
 * the usage-only chunk hidden, and the end settled here when it is the usual one; anything else (a
 * partial end, no usage, extras, a chunk it cannot read) goes to the Python watcher's code
 * (`bind_streams`). The Python proxy and relay stay for async streams, other SDKs, and pure Python.
 *
 * Optional: without a C compiler tokentrail runs the same Python code (`_fast.py`).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "../_slots.h"

/* bound once by `bind_begin()`: the Python begin, the Call type and what open_call reads */
static PyObject *g_begin_py, *g_call_type, *g_endpoints, *g_run_var, *g_tool_var, *g_ctx_var, *g_current_run,
    *g_next_number, *g_stream_method, *g_generate_method, *g_one;

/* bound once by `bind()`: the ledger's queue, and its Switches (`ledger/switches.py`: whether a call may
 * start and end on the short path, and the queue length that folds), read by slot */
static PyObject *g_ledger, *g_switches, *g_pending, *g_append, *g_shapes, *g_time, *g_empty, *g_zero;
static Py_ssize_t g_quiet_start_at, g_quiet_end_at, g_fold_at_at;

static PyObject *s_url, *s_operations, *s_base_url_attr, *s_json_data, *s_quiet_start, *s_quiet_end,
    *s_call_view, *s_adapter, *s_base_url, *s_op, *s_stream, *s_injected, *s_asked;
static PyObject *s_inject_ops, *s_stream_usage, *s_auto, *s_urls, *s_headers, *s_raw_header,
    *s_extra_json, *s_stream_options, *s_include_usage;
static PyObject *s_last, *s_generic, *s_ok, *s_partial, *s_close, *s_enter, *s_exit;
static PyObject *s_fields_set, *s_discard, *s_dict, *s_usage, *s_choices, *s_ptd, *s_ctd, *s_pt, *s_ct, *s_cached, *s_cache_write,
    *s_reasoning, *s_extra_attr, *s_message, *s_finish, *s_tool_calls, *s_model, *s_id, *s_tier, *s_done,
    *s_run, *s_n, *s_head, *s_tail, *s_is_async, *s_fold_at, *s_fold;

#define FALLBACK 0 /* not handled: nothing changed, the Python path reads the result */

/* `d.get(key)`, a new reference (None when absent); NULL with an error set */
static PyObject *get(PyObject *d, PyObject *key) {
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL) {
        if (PyErr_Occurred()) return NULL;
        v = Py_None;
    }
    Py_INCREF(v);
    return v;
}

/* Read in place, with no attribute lookup (each one is up to three lookups through pydantic's
 * `__getattr__` hook and CPython's method cache, and this code runs with every cache cold): an SDK
 * model's instance dict and pydantic's slots (`bind_models`), and the slots of tokentrail's Call
 * (`bind_begin`). Where a type is not the one bound, the attribute path, as before. */
#define KNOWN_CHUNKS 4
static PyTypeObject *g_model_base;              /* pydantic.BaseModel (v2), or NULL */
static Py_ssize_t g_fields_set_at, g_extra_at;  /* its __pydantic_fields_set__, __pydantic_extra__ */
static PyTypeObject *g_chunk_types[KNOWN_CHUNKS];

enum { C_ADAPTER, C_BASE_URL, C_OP, C_STREAM, C_INJECTED, C_ASKED, C_N, C_RUN, C_IS_ASYNC, C_DONE, C_HEAD,
       C_TAIL, C_SLOTS };
static Py_ssize_t g_call_at[C_SLOTS]; /* the Call's slots, or all 0: by attribute */

static int is_model(PyObject *obj) {
    return g_model_base != NULL && PyType_IsSubtype(Py_TYPE(obj), g_model_base);
}

/* the object in slot `at` of `obj` (a new reference), or NULL with AttributeError(name) if unset */
static PyObject *slot_get(PyObject *obj, Py_ssize_t at, PyObject *name) {
    PyObject *v = *(PyObject **)((char *)obj + at);
    if (v == NULL) {
        PyErr_SetObject(PyExc_AttributeError, name);
        return NULL;
    }
    return Py_NewRef(v);
}

/* slot `at` of `obj` where it was found one when bound (`at` > 0), else by attribute */
static PyObject *slot_or_attr(PyObject *obj, Py_ssize_t at, PyObject *name) {
    return at > 0 ? slot_get(obj, at, name) : PyObject_GetAttr(obj, name);
}

/* `obj.<name>` (new reference): an SDK model's field from its dict, anything else by attribute */
static PyObject *field_of(PyObject *obj, PyObject *name) {
    if (is_model(obj)) {
        PyObject *v = dict_item(obj, name);
        if (v != NULL || PyErr_Occurred()) return v;
    }
    return PyObject_GetAttr(obj, name); /* not a field (a property, a class attribute ...) */
}

static int direct_call(PyObject *call) {
    return g_call_at[0] > 0 && Py_TYPE(call) == (PyTypeObject *)g_call_type;
}

/* `call.<name>`: slot `k` of a Call (new reference), else by attribute */
static PyObject *call_get(PyObject *call, int k, PyObject *name) {
    return direct_call(call) ? slot_get(call, g_call_at[k], name) : PyObject_GetAttr(call, name);
}

static int call_set(PyObject *call, int k, PyObject *name, PyObject *value) {
    if (!direct_call(call)) return PyObject_SetAttr(call, name, value);
    Py_XSETREF(*(PyObject **)((char *)call + g_call_at[k]), Py_NewRef(value));
    return 0;
}


/* tokentrail's own plain objects (a run, the tracker, the hub, the ledger: `bind_own`): an attribute read
 * from the instance dict, without the type lookup that comes first in `getattr` (no class in that list
 * defines any of these names as a descriptor: checked when bound). Anything else: by attribute. */
#define OWN_TYPES 8
static PyTypeObject *g_own[OWN_TYPES];

static PyObject *own_get(PyObject *obj, PyObject *name) {
    PyTypeObject *type = Py_TYPE(obj);
    for (int k = 0; k < OWN_TYPES && g_own[k] != NULL; k++) {
        if (g_own[k] != type) continue;
        PyObject *v = dict_item(obj, name);
        if (v != NULL || PyErr_Occurred()) return v;
        break; /* not set on the instance: a class attribute, by attribute */
    }
    return PyObject_GetAttr(obj, name);
}

static PyObject *bind_own(PyObject *module, PyObject *args) {
    PyObject *types, *names;
    if (!PyArg_ParseTuple(args, "O!O!:bind_own", &PyTuple_Type, &types, &PyTuple_Type, &names)) return NULL;
    PyTypeObject *own[OWN_TYPES] = {NULL};
    int n = 0;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(types) && n < OWN_TYPES; k++) {
        PyObject *t = PyTuple_GET_ITEM(types, k);
        if (!PyType_Check(t) || ((PyTypeObject *)t)->tp_dictoffset == 0) continue;
        int plain = 1;
        for (Py_ssize_t j = 0; j < PyTuple_GET_SIZE(names) && plain; j++) {
            PyObject *attr = _PyType_Lookup((PyTypeObject *)t, PyTuple_GET_ITEM(names, j)); /* borrowed */
            if (attr != NULL && Py_TYPE(attr)->tp_descr_set != NULL) plain = 0; /* a property, a slot ... */
        }
        if (plain) own[n++] = (PyTypeObject *)t;
    }
    for (int k = 0; k < OWN_TYPES; k++) {
        Py_XINCREF(own[k]);
        Py_XSETREF(g_own[k], own[k]);
    }
    return PyLong_FromLong(n);
}

/* `obj.__dict__` if it is a dict (new reference), else NULL (no error: the caller falls back) */
static PyObject *fields_of(PyObject *obj) {
    PyObject *d = is_model(obj) ? PyObject_GenericGetDict(obj, NULL) : PyObject_GetAttr(obj, s_dict);
    if (d == NULL) {
        PyErr_Clear();
        return NULL;
    }
    if (!PyDict_CheckExact(d)) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

/* `d.get(key) or 0` as an exact int (new reference in *out, its value in *value): 1 if so, 0 if
 * it is anything else (a str, a float, a bool, a huge int: the Python path normalizes it) */
static int count_of(PyObject *d, PyObject *key, PyObject **out, long long *value) {
    PyObject *v = PyDict_GetItemWithError(d, key);
    if (v == NULL || v == Py_None) {
        PyErr_Clear();
        Py_INCREF(g_zero);
        *out = g_zero;
        *value = 0;
        return 1;
    }
    if (!PyLong_CheckExact(v)) return 0;
    int overflow = 0;
    long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
    if (overflow || (x == -1 && PyErr_Occurred()) || x < 0 || x > ((long long)1 << 60)) {
        PyErr_Clear();
        return 0;
    }
    Py_INCREF(v);
    *out = v;
    *value = x;
    return 1;
}

/* The bound clock's reading: where it is `time.time`, what it computes (CLOCK_REALTIME in nanoseconds,
 * as a float of seconds rounded as `_PyTime_AsSecondsDouble` rounds) without a call through Python */
static int g_clock_is_time;

static PyObject *clock_now(void) {
#ifdef CLOCK_REALTIME
    struct timespec ts;
    if (g_clock_is_time && clock_gettime(CLOCK_REALTIME, &ts) == 0) {
        long long ns = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
        volatile double d; /* as CPython: no rounding changed by optimization */
        if (ns % 1000000000LL == 0) {
            d = (double)(ns / 1000000000LL);
        } else {
            d = (double)ns;
            d /= 1e9;
        }
        return PyFloat_FromDouble(d);
    }
#endif
    return PyObject_CallNoArgs(g_time);
}

/* a Switches slot (`at`, else by attribute): 1 if it is True, 0 if False, -1 on error */
static int switch_on(Py_ssize_t at, PyObject *name) {
    PyObject *v = slot_or_attr(g_switches, at, name);
    if (v == NULL) return -1;
    int on = v == Py_True ? 1 : v == Py_False ? 0 : PyObject_IsTrue(v);
    Py_DECREF(v);
    return on;
}

/* a run's `call_view`, (id, path, scopes, budgeted) (a new reference), where the run has no budget; NULL
 * where it has one, or no such view (the caller falls back to Python, clearing any error) */
static PyObject *run_view(PyObject *run) {
    PyObject *view = own_get(run, s_call_view);
    if (view != NULL && (!PyTuple_CheckExact(view) || PyTuple_GET_SIZE(view) != 4 ||
                         PyTuple_GET_ITEM(view, 3) != Py_False))
        Py_CLEAR(view);
    return view;
}

/* the values of an SDK model's fields dict, appended to `out` from `at`: the flat raw usage's tail */
static Py_ssize_t put_values(PyObject *out, Py_ssize_t at, PyObject *fields) {
    Py_ssize_t pos = 0;
    PyObject *key, *value;
    while (PyDict_Next(fields, &pos, &key, &value)) {
        Py_INCREF(value);
        PyTuple_SET_ITEM(out, at++, value);
    }
    return at;
}

/* The last usage layout found in `g_shapes` ((usage, prompt details, completion details) types ->
 * (shape, top getter, len)), kept beside it: entries are only ever added there, never changed, and it
 * holds its types, so their addresses stay theirs. Saves a tuple and a dict lookup a call. */
static PyObject *g_shape_types[3], *g_shape_known;

static void forget_shape(void) {
    for (int k = 0; k < 3; k++) Py_CLEAR(g_shape_types[k]);
    Py_CLEAR(g_shape_known);
}

/* the layout of these types (a new reference), or NULL (no error set) where `g_shapes` has none */
static PyObject *shape_of(PyObject *tu, PyObject *tp, PyObject *tc) {
    if (g_shape_known != NULL && tu == g_shape_types[0] && tp == g_shape_types[1] && tc == g_shape_types[2])
        return Py_NewRef(g_shape_known);
    PyObject *key = PyTuple_Pack(3, tu, tp, tc);
    if (key == NULL) return NULL;
    PyObject *known = PyDict_GetItemWithError(g_shapes, key); /* borrowed */
    Py_DECREF(key);
    if (known == NULL || !PyTuple_CheckExact(known) || PyTuple_GET_SIZE(known) != 3) return NULL;
    Py_INCREF(known);
    forget_shape();
    g_shape_types[0] = Py_NewRef(tu), g_shape_types[1] = Py_NewRef(tp), g_shape_types[2] = Py_NewRef(tc);
    g_shape_known = Py_NewRef(known);
    return known;
}

/* What the layout's top getter returns (`_flat`: the values of the usage dict's keys other than its
 * detail models, in the dict's order), read in one walk of the dict with each key checked against the
 * shape's; NULL (no error set) where they differ: the Python path reads it */
static PyObject *top_values(PyObject *ud, PyObject *shape, PyObject *p, PyObject *c) {
    Py_ssize_t ntop = PyDict_GET_SIZE(ud) - (p != Py_None) - (c != Py_None);
    if (ntop < 0 || ntop > PyTuple_GET_SIZE(shape)) return NULL;
    PyObject *top = PyTuple_New(ntop);
    if (top == NULL) return NULL;
    Py_ssize_t pos = 0, k = 0;
    PyObject *key, *value;
    while (PyDict_Next(ud, &pos, &key, &value)) {
        if ((value == p || value == c) && value != Py_None) continue;
        PyObject *want = k < ntop ? PyTuple_GET_ITEM(shape, k) : NULL;
        if (want == NULL || (key != want && (!PyUnicode_CheckExact(key) || !PyUnicode_CheckExact(want) ||
                                             PyUnicode_Compare(key, want) != 0))) {
            PyErr_Clear();
            Py_DECREF(top);
            return NULL;
        }
        PyTuple_SET_ITEM(top, k++, Py_NewRef(value));
    }
    if (k != ntop) Py_CLEAR(top);
    return top;
}

/* 1 settled (queued, or already done), 0 fall back, -1 error (only after queueing: the fold raised) */
static int settle_call(PyObject *call, PyObject *result, PyObject *finish_as) {
    int handled = FALLBACK;
    PyObject *run = NULL, *d = NULL, *u = NULL, *ud = NULL, *p = NULL, *c = NULL, *pd = NULL, *cd = NULL;
    PyObject *top = NULL, *choices = NULL, *finish = NULL, *model = NULL, *rid = NULL;
    PyObject *known = NULL, *tier = NULL, *extra = NULL, *ended = NULL, *n = NULL, *head = NULL, *tail = NULL;
    PyObject *is_async = NULL, *record = NULL, *scopes = NULL, *item = NULL, *done = NULL;
    PyObject *i = NULL, *o = NULL, *hit = NULL, *put = NULL, *think = NULL, *total = NULL, *view = NULL;
    long long vi, vo, vhit, vput, vthink;

    /* counted at once (a global budget's counter, a usage subscriber, a run budget): the Python path */
    if (switch_on(g_quiet_end_at, s_quiet_end) != 1) goto out;
    if ((run = call_get(call, C_RUN, s_run)) == NULL) goto out;
    if (run != Py_None && (view = run_view(run)) == NULL) goto out;

    /* _completion_fields: the result's usage, read and copied flat in one pass */
    if ((d = fields_of(result)) == NULL) goto out;
    PyObject *usage = PyDict_GetItemWithError(d, s_usage); /* borrowed: taken below */
    if (usage == NULL || usage == Py_None) goto out;
    u = Py_NewRef(usage);
    if ((ud = fields_of(u)) == NULL) goto out;
    if ((p = get(ud, s_ptd)) == NULL || (c = get(ud, s_ctd)) == NULL) goto out;
    if (p != Py_None && (pd = fields_of(p)) == NULL) goto out;
    if (c != Py_None && (cd = fields_of(c)) == NULL) goto out;
    /* (shape, top getter, len), held: Python code runs below (attribute reads) */
    if ((known = shape_of((PyObject *)Py_TYPE(u), (PyObject *)Py_TYPE(p), (PyObject *)Py_TYPE(c))) == NULL)
        goto out;
    PyObject *shape = PyTuple_GET_ITEM(known, 0), *nfields = PyTuple_GET_ITEM(known, 2);
    Py_ssize_t expected = PyLong_AsSsize_t(nfields);
    if (expected != PyDict_GET_SIZE(ud)) goto out;
    if ((top = top_values(ud, shape, p, c)) == NULL) goto out;
    if (!count_of(ud, s_pt, &i, &vi) || !count_of(ud, s_ct, &o, &vo)) goto out;
    if (pd == NULL) {
        Py_INCREF(g_zero), Py_INCREF(g_zero);
        hit = put = g_zero;
        vhit = vput = 0;
    } else if (!count_of(pd, s_cached, &hit, &vhit) || !count_of(pd, s_cache_write, &put, &vput)) {
        goto out;
    }
    if (cd == NULL) {
        Py_INCREF(g_zero);
        think = g_zero;
        vthink = 0;
    } else if (!count_of(cd, s_reasoning, &think, &vthink)) {
        goto out;
    }
    if (vhit + vput > vi || vthink > vo) goto out; /* odd counts: the core's normalizer names them */
    /* extras (OpenRouter's cost ...): copied by Python */
    extra = is_model(u) ? Py_XNewRef(*(PyObject **)((char *)u + g_extra_at)) : PyObject_GetAttr(u, s_extra_attr);
    if (extra == NULL) PyErr_Clear();
    else if (extra != Py_None) {
        int some = PyObject_IsTrue(extra);
        if (some != 0) goto out;
    }

    /* the first choice's finish reason; tool calls or several choices: the Python path. A stream's
     * end gives its last chunk's (`finish_as`): the usage chunk's choices are not read */
    if (finish_as != NULL) {
        finish = Py_NewRef(finish_as);
    } else if ((choices = get(d, s_choices)) == NULL) {
        goto out;
    } else if (choices == Py_None || (PyList_CheckExact(choices) && PyList_GET_SIZE(choices) == 0)) {
        Py_INCREF(Py_None);
        finish = Py_None;
    } else {
        if (!PyList_CheckExact(choices) || PyList_GET_SIZE(choices) != 1) goto out;
        PyObject *first = PyList_GET_ITEM(choices, 0);
        PyObject *ff = fields_of(first);
        if (ff == NULL) goto out;
        PyObject *message = get(ff, s_message);
        if (message == NULL) {
            Py_DECREF(ff);
            goto out;
        }
        int tools = 0;
        if (message != Py_None) {
            PyObject *md = is_model(message) ? fields_of(message) : NULL;
            PyObject *calls = md != NULL ? Py_XNewRef(PyDict_GetItemWithError(md, s_tool_calls))
                                         : PyObject_GetAttr(message, s_tool_calls);
            tools = calls == NULL ? -1 : PyObject_IsTrue(calls);
            Py_XDECREF(calls), Py_XDECREF(md);
        }
        Py_DECREF(message);
        if (tools == 0)
            finish = is_model(first) ? Py_XNewRef(PyDict_GetItemWithError(ff, s_finish))
                                     : PyObject_GetAttr(first, s_finish);
        Py_DECREF(ff);
        if (finish == NULL) goto out;
    }
    if ((model = get(d, s_model)) == NULL || (rid = get(d, s_id)) == NULL || (tier = get(d, s_tier)) == NULL)
        goto out;

    /* CallHandle.settled: done once, the flat record queued for the next fold */
    if ((done = call_get(call, C_DONE, s_done)) == NULL) goto out;
    int was = PyObject_IsTrue(done);
    if (was < 0) goto out;
    if (was) {
        handled = 1;
        goto out;
    }
    if ((n = call_get(call, C_N, s_n)) == NULL || (head = call_get(call, C_HEAD, s_head)) == NULL ||
        (tail = call_get(call, C_TAIL, s_tail)) == NULL || (is_async = call_get(call, C_IS_ASYNC, s_is_async)) == NULL)
        goto out;
    if (!PyTuple_CheckExact(head) || PyTuple_GET_SIZE(head) != 6 || !PyTuple_CheckExact(tail) ||
        PyTuple_GET_SIZE(tail) != 5)
        goto out;
    scopes = Py_NewRef(view == NULL ? g_empty : PyTuple_GET_ITEM(view, 2));
    if ((total = PyLong_FromLongLong(vi + vo)) == NULL) goto out;
    if ((ended = clock_now()) == NULL) goto out;
    Py_ssize_t ntop = PyTuple_GET_SIZE(top);
    Py_ssize_t size = 26 + 1 + ntop + (pd ? PyDict_GET_SIZE(pd) : 0) + (cd ? PyDict_GET_SIZE(cd) : 0);
    if ((record = PyTuple_New(size)) == NULL) goto out;
    PyObject *const fixed[] = {
        n, PyTuple_GET_ITEM(head, 0), PyTuple_GET_ITEM(head, 1), PyTuple_GET_ITEM(head, 2),
        PyTuple_GET_ITEM(head, 3), PyTuple_GET_ITEM(head, 4), PyTuple_GET_ITEM(head, 5), ended,
        i, o, total, hit, put, think, Py_None, model, is_async, finish, g_empty,
        PyTuple_GET_ITEM(tail, 0), PyTuple_GET_ITEM(tail, 1), PyTuple_GET_ITEM(tail, 2),
        PyTuple_GET_ITEM(tail, 3), PyTuple_GET_ITEM(tail, 4), rid, tier, shape,
    };
    Py_ssize_t at = 0;
    for (; at < 27; at++) {
        Py_INCREF(fixed[at]);
        PyTuple_SET_ITEM(record, at, fixed[at]);
    }
    for (Py_ssize_t k = 0; k < ntop; k++, at++) {
        PyObject *v = PyTuple_GET_ITEM(top, k);
        Py_INCREF(v);
        PyTuple_SET_ITEM(record, at, v);
    }
    if (pd) at = put_values(record, at, pd);
    if (cd) at = put_values(record, at, cd);
    if (at != size) goto out; /* a fields dict changed size under us: let Python read it */
    if (call_set(call, C_DONE, s_done, Py_True) < 0) goto out;
    handled = 1;
    if ((item = PyTuple_Pack(2, record, scopes)) == NULL) goto error;
    /* neither can be in a reference cycle (atoms, a path, a context; a record and its run scopes): the
     * collector need not walk them while they are queued and kept (it would untrack a record later) */
    PyObject_GC_UnTrack(record);
    PyObject_GC_UnTrack(item);
    PyObject *r = PyObject_CallOneArg(g_append, item);
    if (r == NULL) goto error;
    Py_DECREF(r);
    PyObject *at_most = slot_or_attr(g_switches, g_fold_at_at, s_fold_at);
    if (at_most == NULL) goto error;
    Py_ssize_t limit = PyLong_AsSsize_t(at_most);
    Py_DECREF(at_most);
    if (limit == -1 && PyErr_Occurred()) goto error;
    if (PyObject_Size(g_pending) >= limit) {
        r = PyObject_CallMethodNoArgs(g_ledger, s_fold);
        if (r == NULL) goto error;
        Py_DECREF(r);
    }
    goto out;
error:
    handled = -1;
out:
    if (handled == FALLBACK) PyErr_Clear();
    Py_XDECREF(run), Py_XDECREF(d), Py_XDECREF(u), Py_XDECREF(ud), Py_XDECREF(p), Py_XDECREF(c);
    Py_XDECREF(pd), Py_XDECREF(cd), Py_XDECREF(top), Py_XDECREF(choices);
    Py_XDECREF(finish), Py_XDECREF(model), Py_XDECREF(rid), Py_XDECREF(tier), Py_XDECREF(extra);
    Py_XDECREF(ended), Py_XDECREF(n), Py_XDECREF(head), Py_XDECREF(tail), Py_XDECREF(is_async);
    Py_XDECREF(record), Py_XDECREF(scopes), Py_XDECREF(item), Py_XDECREF(done), Py_XDECREF(i);
    Py_XDECREF(o), Py_XDECREF(hit), Py_XDECREF(put), Py_XDECREF(think), Py_XDECREF(total);
    Py_XDECREF(known), Py_XDECREF(view);
    return handled;
}

static PyObject *settle(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2 && nargs != 3) {
        PyErr_SetString(PyExc_TypeError, "settle(call, result[, finish_reason])");
        return NULL;
    }
    if (g_ledger == NULL) Py_RETURN_FALSE; /* not bound yet */
    int handled = settle_call(args[0], args[1], nargs == 3 ? args[2] : NULL);
    if (handled < 0) return NULL;
    return PyBool_FromLong(handled);
}

static PyObject *bind(PyObject *module, PyObject *args) {
    PyObject *ledger, *switches, *pending, *shapes, *clock;
    if (!PyArg_ParseTuple(args, "OOOO!O:bind", &ledger, &switches, &pending, &PyDict_Type, &shapes, &clock))
        return NULL;
    PyObject *append = PyObject_GetAttrString(pending, "append");
    if (append == NULL) return NULL;
    Py_INCREF(ledger), Py_INCREF(switches), Py_INCREF(pending), Py_INCREF(shapes), Py_INCREF(clock);
    Py_XSETREF(g_ledger, ledger);
    Py_XSETREF(g_switches, switches);
    PyObject *type = (PyObject *)Py_TYPE(switches);
    g_quiet_start_at = slot_offset(type, "quiet_start");
    g_quiet_end_at = slot_offset(type, "quiet_end");
    g_fold_at_at = slot_offset(type, "fold_at");
    forget_shape();
    Py_XSETREF(g_pending, pending);
    Py_XSETREF(g_append, append);
    Py_XSETREF(g_shapes, shapes);
    Py_XSETREF(g_time, clock);
    g_clock_is_time = 0;
    PyObject *time_module = PyImport_ImportModule("time");
    if (time_module != NULL) {
        PyObject *builtin = PyObject_GetAttrString(time_module, "time");
        g_clock_is_time = builtin == clock;
        Py_XDECREF(builtin);
        Py_DECREF(time_module);
    }
    PyErr_Clear();
    Py_RETURN_NONE;
}


/* -- begin: a Call started, as _call.begin + runs.calls.open_call ------------------------------- */
static PyObject *python_begin(PyObject *const *args, Py_ssize_t nargs) {
    PyErr_Clear();
    return PyObject_Vectorcall(g_begin_py, args, nargs, NULL);
}

static int set_all(PyObject *obj, PyObject *const *names, PyObject *const *values, int n) {
    for (int k = 0; k < n; k++)
        if (call_set(obj, k, names[k], values[k]) < 0) return -1;
    return 0;
}

/* bound by `bind_inject()`: the core's settings (stream_usage) and the endpoints that refused it */
static PyObject *g_settings, *g_rejecting;
static Py_ssize_t g_stream_usage_at, g_urls_at; /* their slots (0: by attribute) */

/* `OpenAIAdapter.prepare`'s usual case, as the call starts: ask a chat/completions stream for its usage
 * (`stream_options.include_usage`), the body set in place; 1 injected, else 0 with nothing changed (the
 * Python `prepare` then decides, as before) */
static int inject(PyObject *adapter, PyObject *call, PyObject *op, PyObject *options, PyObject *base_text,
                  PyObject *data) {
    int done = 0;
    PyObject *ops = NULL, *v = NULL, *headers = NULL, *extra = NULL, *wanted = NULL, *body = NULL,
             *fields = NULL, *asked = NULL;
    if (g_settings == NULL || !PyDict_CheckExact(data) || !direct_call(call)) return 0;
    if ((ops = own_get(adapter, s_inject_ops)) == NULL) goto error;
    if (PySequence_Contains(ops, op) <= 0) goto decline;
    if ((v = slot_or_attr(g_settings, g_stream_usage_at, s_stream_usage)) == NULL) goto error;
    if (!PyUnicode_Check(v) || PyUnicode_Compare(v, s_auto) != 0) goto decline;
    Py_CLEAR(v);
    if ((v = slot_or_attr(g_rejecting, g_urls_at, s_urls)) == NULL) goto error;
    if (PySequence_Contains(v, base_text) != 0) goto decline;
    if ((headers = field_of(options, s_headers)) == NULL) goto error;
    if (PyDict_Check(headers)) { /* the user reads raw bytes: they must see what they asked for */
        PyObject *raw = PyDict_GetItemWithError(headers, s_raw_header);
        if (raw == NULL && PyErr_Occurred()) goto error;
        if (raw != NULL && PyObject_IsTrue(raw) != 0) goto decline;
    }
    if ((extra = field_of(options, s_extra_json)) == NULL) goto error;
    if (PyDict_Check(extra) && PyDict_Contains(extra, s_stream_options) != 0) goto decline;
    PyObject *given = PyDict_GetItemWithError(data, s_stream_options);
    if (given == NULL && PyErr_Occurred()) goto error;
    if (given == NULL || given == Py_None) {
        wanted = PyDict_New();
    } else if (PyDict_Check(given) && !PyDict_Contains(given, s_include_usage)) {
        wanted = PyDict_Copy(given);
    } else {
        goto decline;
    }
    if (wanted == NULL || PyDict_SetItem(wanted, s_include_usage, Py_True) < 0) goto error;
    if ((fields = fields_of(options)) == NULL || PyDict_Contains(fields, s_json_data) != 1) goto decline;
    if ((body = PyDict_Copy(data)) == NULL || PyDict_SetItem(body, s_stream_options, wanted) < 0) goto error;
    if ((asked = PyTuple_Pack(2, fields, data)) == NULL) goto error;
    /* the SDK built these options for this call alone (`post()`): the body set in place, as `prepare` */
    if (PyDict_SetItem(fields, s_json_data, body) < 0) goto error;
    call_set(call, C_ASKED, s_asked, asked);
    call_set(call, C_INJECTED, s_injected, Py_True);
    done = 1;
    goto out;
error:
decline:
    PyErr_Clear(); /* not injected (or it failed, changing nothing): the Python `prepare` decides */
    done = 0;
out:
    Py_XDECREF(ops), Py_XDECREF(v), Py_XDECREF(headers), Py_XDECREF(extra), Py_XDECREF(wanted);
    Py_XDECREF(body), Py_XDECREF(fields), Py_XDECREF(asked);
    return done;
}

/* `bind_x(a, b)`: two objects kept in `*first`, `*second` (their old ones released) */
static PyObject *bind_pair(PyObject *args, const char *format, PyObject **first, PyObject **second) {
    PyObject *a, *b;
    if (!PyArg_ParseTuple(args, format, &a, &b)) return NULL;
    Py_INCREF(a), Py_INCREF(b);
    Py_XSETREF(*first, a);
    Py_XSETREF(*second, b);
    Py_RETURN_NONE;
}

static PyObject *bind_inject(PyObject *module, PyObject *args) {
    PyObject *r = bind_pair(args, "OO:bind_inject", &g_settings, &g_rejecting);
    if (r == NULL) return NULL;
    g_stream_usage_at = slot_offset((PyObject *)Py_TYPE(g_settings), "stream_usage");
    g_urls_at = slot_offset((PyObject *)Py_TYPE(g_rejecting), "urls");
    return r;
}

/* `client._base_url`, read from the instance dict: `_client_url.base_url_key(type)` says which key it
 * ends at through plain `return self.<name>` properties (openai < 3.63: `_base_url` itself; >= 3.63:
 * `_configured_base_url`, behind two properties and a function one imports), or None (getattr). Asked
 * once per client type and remembered with the type's version tag, which CPython changes whenever the
 * type or a base is modified. Skips getattr's walk of the client's MRO and those properties' Python
 * frames each call. */
static PyObject *g_url_key_of; /* bound by `bind_begin` */
static PyTypeObject *g_client_type;
static unsigned int g_client_version;
static PyObject *g_client_key; /* a str, or None */

static PyObject *base_url_of(PyObject *client) {
    PyTypeObject *type = Py_TYPE(client);
    if (type != g_client_type || type->tp_version_tag != g_client_version || g_client_version == 0) {
        if (g_url_key_of == NULL || type->tp_dictoffset == 0) return PyObject_GetAttr(client, s_base_url_attr);
        PyObject *key = PyObject_CallOneArg(g_url_key_of, (PyObject *)type);
        if (key == NULL || (key != Py_None && !PyUnicode_CheckExact(key))) {
            PyErr_Clear();
            Py_XDECREF(key);
            return PyObject_GetAttr(client, s_base_url_attr);
        }
        (void)_PyType_Lookup(type, s_base_url_attr); /* gives the type a version tag where it has none */
        if (!(type->tp_flags & Py_TPFLAGS_VALID_VERSION_TAG) || type->tp_version_tag == 0) {
            Py_DECREF(key);
            return PyObject_GetAttr(client, s_base_url_attr);
        }
        Py_INCREF(type);
        Py_XSETREF(g_client_type, type);
        Py_XSETREF(g_client_key, key);
        g_client_version = type->tp_version_tag;
    }
    if (g_client_key != Py_None) {
        PyObject *v = dict_item(client, g_client_key);
        if (v != NULL || PyErr_Occurred()) return v;
    }
    return PyObject_GetAttr(client, s_base_url_attr);
}

/* `g_endpoints[id(base)]`, (base, provider, text) (a new reference), or NULL (no error set) where it
 * has not been learned; the last one found is remembered: it holds `base`, so no other object can have
 * its address, and an endpoint's provider and text follow from the URL alone */
static PyObject *g_last_endpoint;

static PyObject *endpoint_of(PyObject *base) {
    if (g_last_endpoint != NULL && PyTuple_GET_ITEM(g_last_endpoint, 0) == base) return Py_NewRef(g_last_endpoint);
    PyObject *key = PyLong_FromVoidPtr(base);
    if (key == NULL) return NULL;
    PyObject *endpoint = PyDict_GetItemWithError(g_endpoints, key); /* borrowed */
    Py_DECREF(key);
    if (endpoint == NULL || !PyTuple_CheckExact(endpoint) || PyTuple_GET_SIZE(endpoint) != 3 ||
        PyTuple_GET_ITEM(endpoint, 0) != base)
        return NULL;
    Py_INCREF(endpoint);
    Py_XSETREF(g_last_endpoint, Py_NewRef(endpoint));
    return endpoint;
}

static PyObject *begin(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (g_begin_py == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tokentrail: _speedups.begin used before bind_begin()");
        return NULL;
    }
    if (nargs != 5) return python_begin(args, nargs);
    PyObject *adapter = args[0], *client = args[1], *options = args[2], *stream = args[3], *is_async = args[4];
    PyObject *url = NULL, *ops = NULL, *base = NULL, *data = NULL, *run = NULL, *view = NULL;
    PyObject *call = NULL, *n = NULL, *head = NULL, *tail = NULL, *tool = NULL, *ctx = NULL, *now = NULL;
    PyObject *result = NULL, *found = NULL, *endpoint = NULL, *model = NULL;
    int delegate = 1;

    if ((url = field_of(options, s_url)) == NULL || !PyUnicode_CheckExact(url)) goto out;
    if ((ops = own_get(adapter, s_operations)) == NULL || !PyDict_CheckExact(ops)) goto out;
    found = PyDict_GetItemWithError(ops, url); /* a query, or not an LLM call: Python says */
    if (found == NULL || !PyTuple_CheckExact(found) || PyTuple_GET_SIZE(found) != 2) {
        found = NULL;
        goto out;
    }
    Py_INCREF(found); /* held, as what follows: Python code (current_run) may run before they are used */
    if ((base = base_url_of(client)) == NULL || base == Py_None) goto out;
    if ((endpoint = endpoint_of(base)) == NULL) goto out;
    if ((data = field_of(options, s_json_data)) == NULL) goto out;
    model = Py_None;
    if (PyDict_CheckExact(data)) {
        PyObject *m = PyDict_GetItemWithError(data, s_model);
        if (m == NULL && PyErr_Occurred()) goto out;
        if (m != NULL && PyUnicode_CheckExact(m)) model = m;
    }
    Py_INCREF(model);
    /* open_call: the run (the contextvar, else the resolvers); budgets and call_start: Python */
    if (PyContextVar_Get(g_run_var, Py_None, &run) < 0) goto out;
    if (run == Py_None) {
        Py_DECREF(run);
        if ((run = PyObject_CallNoArgs(g_current_run)) == NULL) goto out;
    }
    /* a run budget, the global budget or a call_start subscriber: Python's open_call */
    if (run != Py_None && (view = run_view(run)) == NULL) goto out;
    if (switch_on(g_quiet_start_at, s_quiet_start) != 1) goto out;

    PyObject *op = PyTuple_GET_ITEM(found, 0);
    if ((call = ((PyTypeObject *)g_call_type)->tp_alloc((PyTypeObject *)g_call_type, 0)) == NULL) goto out;
    if ((n = PyObject_CallNoArgs(g_next_number)) == NULL) goto out;
    if ((now = clock_now()) == NULL) goto out;
    int streamed = PyObject_IsTrue(stream);
    if (streamed < 0) goto out;
    head = PyTuple_Pack(6, PyTuple_GET_ITEM(found, 1), PyTuple_GET_ITEM(endpoint, 1), model, op,
                        streamed ? g_stream_method : g_generate_method, now);
    if (head == NULL) goto out;
    if (PyContextVar_Get(g_tool_var, Py_None, &tool) < 0 || PyContextVar_Get(g_ctx_var, Py_None, &ctx) < 0)
        goto out;
    if (view == NULL)
        tail = PyTuple_Pack(5, tool, Py_None, g_empty, ctx, g_one);
    else
        tail = PyTuple_Pack(5, tool, PyTuple_GET_ITEM(view, 0), PyTuple_GET_ITEM(view, 1), ctx, g_one);
    if (tail == NULL) goto out;
    PyObject *const names[] = {s_adapter, s_base_url, s_op, s_stream, s_injected, s_asked,
                               s_n, s_run, s_is_async, s_done, s_head, s_tail};
    PyObject *const values[] = {adapter, PyTuple_GET_ITEM(endpoint, 2), op, stream, Py_False, Py_None,
                                n, run, is_async, Py_False, head, tail};
    if (set_all(call, names, values, 12) < 0) goto out;
    if (streamed) inject(adapter, call, op, options, PyTuple_GET_ITEM(endpoint, 2), data);
    delegate = 0;
    result = call;
    call = NULL;
out:
    Py_XDECREF(url), Py_XDECREF(ops), Py_XDECREF(base), Py_XDECREF(data), Py_XDECREF(view);
    Py_XDECREF(run), Py_XDECREF(call), Py_XDECREF(n), Py_XDECREF(head);
    Py_XDECREF(tail), Py_XDECREF(tool), Py_XDECREF(ctx), Py_XDECREF(now);
    Py_XDECREF(found), Py_XDECREF(endpoint), Py_XDECREF(model);
    if (delegate) return python_begin(args, nargs);
    return result;
}

static PyObject *bind_begin(PyObject *module, PyObject *args) {
    PyObject *objs[9];
    if (!PyArg_ParseTuple(args, "OOO!OOOOOO:bind_begin", &objs[0], &objs[1], &PyDict_Type, &objs[2], &objs[3],
                          &objs[4], &objs[5], &objs[6], &objs[7], &objs[8]))
        return NULL;
    if (!PyType_Check(objs[1])) {
        PyErr_SetString(PyExc_TypeError, "bind_begin: the Call type");
        return NULL;
    }
    PyObject **slots[] = {&g_begin_py, &g_call_type, &g_endpoints, &g_run_var, &g_tool_var,
                          &g_ctx_var, &g_current_run, &g_next_number, &g_url_key_of};
    for (int k = 0; k < 9; k++) {
        Py_INCREF(objs[k]);
        Py_XSETREF(*slots[k], objs[k]);
    }
    Py_CLEAR(g_last_endpoint);
    Py_CLEAR(g_client_type);
    Py_CLEAR(g_client_key);
    g_client_version = 0;
    /* the Call's slots in place where each is a plain object slot, else all by attribute */
    static const char *names[C_SLOTS] = {"adapter", "base_url", "op", "stream", "injected", "asked",
                                         "_n", "run", "is_async", "done", "_head", "_tail"};
    Py_ssize_t at[C_SLOTS];
    int all = 1;
    for (int k = 0; k < C_SLOTS; k++) all &= (at[k] = slot_offset(objs[1], names[k])) > 0;
    for (int k = 0; k < C_SLOTS; k++) g_call_at[k] = all ? at[k] : 0;
    Py_RETURN_NONE;
}

/* the SDK's own chunk types (`bind_models`): read in place */
static int is_sdk_chunk(PyTypeObject *type) {
    for (int k = 0; k < KNOWN_CHUNKS && g_chunk_types[k] != NULL; k++)
        if (g_chunk_types[k] == type) return 1;
    return 0;
}

/* 1: `chunk.usage is None` (and the field unmarked if `hide`), 0: it has usage, -1: not read here */
static int no_usage_direct(PyObject *chunk, int hide) {
    PyObject *d = PyObject_GenericGetDict(chunk, NULL);
    if (d == NULL) {
        PyErr_Clear();
        return -1;
    }
    PyObject *usage = PyDict_GetItemWithError(d, s_usage); /* borrowed: the chunk holds its dict */
    Py_DECREF(d);
    if (usage == NULL) {
        PyErr_Clear();
        return -1;
    }
    if (usage != Py_None) return 0;
    if (hide) {
        PyObject *set = *(PyObject **)((char *)chunk + g_fields_set_at);
        if (set == NULL || !PySet_CheckExact(set) || PySet_Discard(set, s_usage) < 0) {
            PyErr_Clear();
            return -1;
        }
    }
    return 1;
}

/* -- Proxy: a sync chat stream as the user sees it, relayed and ended in C ------------------------ */
typedef struct {
    PyObject_HEAD
    PyObject *wrapped;     /* the SDK's Stream: everything not relayed is forwarded to it */
    PyObject *it;          /* what is relayed: the SDK's own generator (or the stream's iterator) */
    PyObject *call;        /* tokentrail's Call */
    PyObject *settle;      /* `_fast.settle`: this module's own is called directly */
    PyObject *watcher;     /* a Python watcher, made only for the generic relay */
    PyObject *last;        /* the last chunk with choices relayed, or NULL */
    PyObject *usage_chunk; /* the chunk that carried usage, or NULL */
    PyObject *rest;        /* the watcher's generic relay, once a chunk could not be read here */
    int hide;              /* tokentrail asked for usage: unmark `usage`, hide the usage-only chunk */
    int ended;             /* the call was ended (once) */
    int spent;             /* the SDK's iterator ran out or raised: relay nothing more */
} Proxy;

static PyObject *g_settle_fn;                /* this module's settle */
static PyObject *g_end_stream, *g_watcher_of; /* bound by `bind_streams` */

static PyObject *proxy_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *wrapped, *it, *call, *settle;
    int hide;
    if (g_end_stream == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "tokentrail: _speedups.Proxy used before bind_streams()");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OOOpO:Proxy", &wrapped, &it, &call, &hide, &settle)) return NULL;
    Proxy *self = PyObject_GC_New(Proxy, type);
    if (self == NULL) return NULL;
    self->wrapped = Py_NewRef(wrapped), self->it = Py_NewRef(it), self->call = Py_NewRef(call);
    self->settle = Py_NewRef(settle);
    self->watcher = self->last = self->usage_chunk = self->rest = NULL;
    self->hide = hide, self->ended = self->spent = 0;
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* the first choice's finish reason of a chunk with choices (new reference), or NULL (none; or an error) */
static PyObject *first_finish(PyObject *chunk) {
    PyObject *choices = PyObject_GetAttr(chunk, s_choices);
    if (choices == NULL) return NULL;
    PyObject *finish = NULL;
    if (PyList_Check(choices) && PyList_GET_SIZE(choices) > 0)
        finish = PyObject_GetAttr(PyList_GET_ITEM(choices, 0), s_finish);
    Py_DECREF(choices);
    return finish;
}

/* `ChunkWatcher.settled_in_c`: the usual end (a usage chunk of an SDK type) in C; 1 done, 0 not, -1 error */
static int proxy_settled(Proxy *self) {
    if (self->usage_chunk == NULL || !is_sdk_chunk(Py_TYPE(self->usage_chunk))) return 0;
    PyObject *finish = NULL;
    if (self->last != NULL && self->last != self->usage_chunk) {
        finish = first_finish(self->last); /* `last` has choices: it was kept for them */
        if (finish == NULL) {
            PyErr_Clear();
            return 0;
        }
    }
    int handled;
    if (self->settle == g_settle_fn) {
        handled = settle_call(self->call, self->usage_chunk, finish);
    } else { /* a stand-in (the pure-Python one, a test's spy) */
        PyObject *r = finish == NULL ? PyObject_CallFunctionObjArgs(self->settle, self->call, self->usage_chunk, NULL)
                                     : PyObject_CallFunctionObjArgs(self->settle, self->call, self->usage_chunk,
                                                                    finish, NULL);
        handled = r == NULL ? -1 : PyObject_IsTrue(r);
        Py_XDECREF(r);
    }
    Py_XDECREF(finish);
    return handled;
}

/* end the call once: `ok` in C where it can, else (and `partial`) by Python's `end_stream` */
static int proxy_finish(Proxy *self, PyObject *status, PyObject *exc) {
    if (self->ended) return 0;
    self->ended = 1;
    if (status == s_ok && self->rest == NULL) {
        int done = proxy_settled(self);
        if (done != 0) return done < 0 ? -1 : 0;
    }
    PyObject *r = PyObject_CallFunctionObjArgs(
        g_end_stream, self->call, self->watcher ? self->watcher : Py_None, self->last ? self->last : Py_None,
        self->usage_chunk ? self->usage_chunk : Py_None, status, exc, NULL);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* the SDK raised (or a chunk could not be read): end `partial` with it, and raise it on */
static PyObject *proxy_raised(Proxy *self) {
    self->spent = 1; /* as a generator that raised: finished */
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
    if (proxy_finish(self, s_partial, value ? value : Py_None) < 0) { /* the end raised: that one wins */
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        return NULL;
    }
    PyErr_Restore(type, value, tb);
    return NULL;
}

/* a chunk this relay cannot read (not an SDK chunk, or pydantic v1): a Python watcher's generic relay
 * takes the rest of the stream from this chunk on; 0, or -1 with the call ended and the error set */
static int proxy_generic(Proxy *self, PyObject *chunk) {
    PyObject *watcher = PyObject_CallOneArg(g_watcher_of, self->call);
    if (watcher == NULL) goto failed;
    self->watcher = watcher;
    if (self->last != NULL && PyObject_SetAttr(watcher, s_last, self->last) < 0) goto failed;
    self->rest = PyObject_CallMethodObjArgs(watcher, s_generic, chunk, self->it, NULL);
    if (self->rest == NULL) goto failed;
    Py_DECREF(chunk);
    return 0;
failed:
    Py_DECREF(chunk);
    proxy_raised(self);
    return -1;
}

/* closed (or ended partial) and still iterated: the chunks go on as from the SDK's own stream */
static PyObject *proxy_next(Proxy *self) {
    for (;;) {
        if (self->spent) return NULL;
        if (self->rest != NULL) {
            PyObject *r = PyIter_Next(self->rest);
            if (r != NULL) return r;
            self->spent = 1;
            if (PyErr_Occurred()) return proxy_raised(self);
            proxy_finish(self, s_ok, Py_None);
            return NULL;
        }
        PyObject *chunk = PyIter_Next(self->it);
        if (chunk == NULL) {
            self->spent = 1;
            if (PyErr_Occurred()) return proxy_raised(self);
            proxy_finish(self, s_ok, Py_None);
            return NULL; /* ran out (or the end raised: it propagates, as from the Python relay) */
        }
        int none = is_sdk_chunk(Py_TYPE(chunk)) ? no_usage_direct(chunk, self->hide) : -1;
        if (none < 0) { /* by attribute, as `_relay_python` reads it */
            PyObject *usage = PyObject_GetAttr(chunk, s_usage);
            int unreadable = usage == NULL;
            if (usage != NULL) {
                none = usage == Py_None;
                Py_DECREF(usage);
                if (none && self->hide) {
                    PyObject *set = PyObject_GetAttr(chunk, s_fields_set);
                    PyObject *r = set == NULL ? NULL : PyObject_CallMethodOneArg(set, s_discard, s_usage);
                    Py_XDECREF(set);
                    unreadable = r == NULL;
                    Py_XDECREF(r);
                }
            }
            if (unreadable) {
                if (!PyErr_ExceptionMatches(PyExc_AttributeError)) {
                    Py_DECREF(chunk);
                    return proxy_raised(self);
                }
                PyErr_Clear();
                if (proxy_generic(self, chunk) < 0) return NULL;
                continue;
            }
        }
        if (none) {
            Py_XSETREF(self->last, Py_NewRef(chunk));
            return chunk;
        }
        Py_XSETREF(self->usage_chunk, Py_NewRef(chunk)); /* the chunk with usage */
        PyObject *choices = PyObject_GetAttr(chunk, s_choices);
        int some = choices == NULL ? -1 : PyObject_IsTrue(choices);
        Py_XDECREF(choices);
        if (some < 0) {
            Py_DECREF(chunk);
            return proxy_raised(self);
        }
        if (some) {
            Py_XSETREF(self->last, Py_NewRef(chunk));
            return chunk;
        }
        if (!self->hide) return chunk; /* the usage chunk the user asked for is theirs */
        Py_DECREF(chunk);              /* the usage-only chunk we asked for: hidden */
    }
}

/* collected before it ran out (never iterated, broken out of and dropped): the call ends `partial` */
static void proxy_finalize(Proxy *self) {
    if (self->ended || self->call == NULL) return;
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (proxy_finish(self, s_partial, Py_None) < 0) PyErr_WriteUnraisable((PyObject *)self);
    PyErr_Restore(type, value, tb);
}

/* `self.__wrapped__.<name>(*args)`, then the call ends `partial` whatever that did (try/finally) */
static PyObject *forward_then_end(Proxy *self, PyObject *name, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *method = PyObject_GetAttr(self->wrapped, name);
    PyObject *r = method == NULL ? NULL : PyObject_Vectorcall(method, args, nargs, NULL);
    Py_XDECREF(method);
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (proxy_finish(self, s_partial, Py_None) < 0) { /* the end raised: as a `finally` that raises */
        Py_XDECREF(r), Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        return NULL;
    }
    PyErr_Restore(type, value, tb);
    return r;
}

static PyObject *proxy_close(Proxy *self, PyObject *unused) { return forward_then_end(self, s_close, NULL, 0); }

static PyObject *proxy_exit(Proxy *self, PyObject *const *args, Py_ssize_t nargs) {
    return forward_then_end(self, s_exit, args, nargs);
}

static PyObject *proxy_enter(Proxy *self, PyObject *unused) {
    PyObject *r = PyObject_CallMethodNoArgs(self->wrapped, s_enter);
    if (r == NULL) return NULL;
    Py_DECREF(r);
    return Py_NewRef(self);
}

static PyObject *proxy_tt_end(Proxy *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "_tt_end(status, exc)");
        return NULL;
    }
    PyObject *status = PyUnicode_Check(args[0]) && PyUnicode_CompareWithASCIIString(args[0], "ok") == 0 ? s_ok
                                                                                                        : s_partial;
    if (proxy_finish(self, status, args[1]) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *proxy_getattro(Proxy *self, PyObject *name) {
    PyObject *r = PyObject_GenericGetAttr((PyObject *)self, name);
    if (r != NULL || !PyErr_ExceptionMatches(PyExc_AttributeError)) return r;
    PyErr_Clear();
    return PyObject_GetAttr(self->wrapped, name); /* everything else is the SDK stream's */
}

static int proxy_setattro(Proxy *self, PyObject *name, PyObject *value) {
    return PyObject_SetAttr(self->wrapped, name, value);
}

static PyObject *proxy_repr(Proxy *self) { return PyObject_Repr(self->wrapped); }

static PyObject *proxy_class(Proxy *self, void *closure) { return Py_NewRef(Py_TYPE(self->wrapped)); }

static PyObject *proxy_wrapped(Proxy *self, void *closure) { return Py_NewRef(self->wrapped); }

static int proxy_traverse(Proxy *self, visitproc visit, void *arg) {
    Py_VISIT(self->wrapped);
    Py_VISIT(self->it);
    Py_VISIT(self->call);
    Py_VISIT(self->settle);
    Py_VISIT(self->watcher);
    Py_VISIT(self->last);
    Py_VISIT(self->usage_chunk);
    Py_VISIT(self->rest);
    return 0;
}

static int proxy_clear(Proxy *self) {
    Py_CLEAR(self->wrapped);
    Py_CLEAR(self->it);
    Py_CLEAR(self->call);
    Py_CLEAR(self->settle);
    Py_CLEAR(self->watcher);
    Py_CLEAR(self->last);
    Py_CLEAR(self->usage_chunk);
    Py_CLEAR(self->rest);
    return 0;
}

static void proxy_dealloc(Proxy *self) {
    if (PyObject_CallFinalizerFromDealloc((PyObject *)self) < 0) return; /* resurrected */
    PyObject_GC_UnTrack(self);
    proxy_clear(self);
    PyObject_GC_Del(self);
}

static PyMethodDef proxy_methods[] = {
    {"close", (PyCFunction)proxy_close, METH_NOARGS, "close the SDK stream; the call ends `partial`"},
    {"__enter__", (PyCFunction)proxy_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)(void (*)(void))proxy_exit, METH_FASTCALL, NULL},
    {"_tt_end", (PyCFunction)(void (*)(void))proxy_tt_end, METH_FASTCALL,
     "_tt_end(status, exc): end the call now (a stream helper was closed)"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef proxy_getset[] = {
    {"__class__", (getter)proxy_class, NULL, "the SDK stream's class: isinstance(proxy, openai.Stream)", NULL},
    {"__wrapped__", (getter)proxy_wrapped, NULL, "the SDK stream", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ProxyType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokentrail.instrument._speedups.Proxy",
    .tp_basicsize = sizeof(Proxy),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Proxy(stream, iterator, call, hide, settle): a sync chat stream, relayed and ended (see the module).",
    .tp_new = proxy_new,
    .tp_dealloc = (destructor)proxy_dealloc,
    .tp_finalize = (destructor)proxy_finalize,
    .tp_traverse = (traverseproc)proxy_traverse,
    .tp_clear = (inquiry)proxy_clear,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)proxy_next,
    .tp_getattro = (getattrofunc)proxy_getattro,
    .tp_setattro = (setattrofunc)proxy_setattro,
    .tp_repr = (reprfunc)proxy_repr,
    .tp_methods = proxy_methods,
    .tp_getset = proxy_getset,
};

static PyObject *bind_streams(PyObject *module, PyObject *args) {
    return bind_pair(args, "OO:bind_streams", &g_end_stream, &g_watcher_of);
}

static PyObject *bind_models(PyObject *module, PyObject *args) {
    PyObject *base, *types;
    if (!PyArg_ParseTuple(args, "O!O!:bind_models", &PyType_Type, &base, &PyTuple_Type, &types)) return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(types);
    Py_ssize_t fields_set = slot_offset(base, "__pydantic_fields_set__"), extra = slot_offset(base, "__pydantic_extra__");
    if (n > KNOWN_CHUNKS || fields_set == 0 || extra == 0) {
        PyErr_SetString(PyExc_TypeError, "bind_models(pydantic.BaseModel, at most 4 chunk types)");
        return NULL;
    }
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *t = PyTuple_GET_ITEM(types, k);
        if (!PyType_Check(t) || !PyType_IsSubtype((PyTypeObject *)t, (PyTypeObject *)base)) {
            PyErr_SetString(PyExc_TypeError, "bind_models: each chunk type must be a model");
            return NULL;
        }
    }
    for (int k = 0; k < KNOWN_CHUNKS; k++) {
        PyTypeObject *t = k < n ? (PyTypeObject *)PyTuple_GET_ITEM(types, k) : NULL;
        Py_XINCREF(t);
        Py_XSETREF(g_chunk_types[k], t);
    }
    Py_INCREF(base);
    Py_XSETREF(g_model_base, (PyTypeObject *)base);
    g_fields_set_at = fields_set, g_extra_at = extra;
    Py_RETURN_NONE;
}


/* -- Request: the SDK's sync `request`, wrapped in C ----------------------------------------------------
 * `_wrap.sync_request`'s `request` for the usual call (three positional arguments, `stream` and
 * `stream_cls` by keyword): begin, send (with `prepare` where the C begin did not ask a stream for usage,
 * and the resend where the endpoint refused it), then a usual result read in C; a failure, a stream, a
 * raw or an unusual result go to the Call's Python methods, and any other signature to the Python
 * wrapper (`fallback`). It leaves no Python frame, so a retry finds its call in `current_call()`.
 * `_wrap.begin` and `_fast.settle` are looked up as the Python wrapper would (tests replace them). */
#if defined(_MSC_VER)
#define THREAD_LOCAL __declspec(thread)
#else
#define THREAD_LOCAL _Thread_local
#endif
static THREAD_LOCAL PyObject *t_current; /* the sync call this thread is sending: a strong reference */

/* bound by `bind_request()` */
static PyObject *g_wrap_globals, *g_fast_globals, *g_kinds, *g_fast_kind, *g_warn_exception;
static PyObject *g_stream_kind, *g_plain_streams; /* STREAM; stream type -> its plain __iter__ or None */
static PyObject *g_begin_fn; /* this module's begin */
static PyObject *s_iter_name, *s_iterator, *s_c_stream_ops;
static PyObject *s_begin, *s_settle, *s_stream_cls, *s_prepare, *s_refused, *s_failed, *s_read_result,
    *s_result_accounting, *s_succeeded;

typedef struct {
    PyObject_HEAD
    PyObject *adapter, *original, *fallback, *dict;
    vectorcallfunc vectorcall;
} Request;

static int is_name(PyObject *name, PyObject *want) {
    return name == want || (PyUnicode_CheckExact(name) && PyUnicode_Compare(name, want) == 0);
}

/* `original(client, cast_to, sent, **the caller's keywords)`, with `call` this thread's current call */
static PyObject *send_request(Request *self, PyObject *const *args, PyObject *kwnames, PyObject *sent, PyObject *call) {
    PyObject *stack[5] = {args[0], args[1], sent, NULL, NULL};
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; k < nkw; k++) stack[3 + k] = args[3 + k];
    PyObject *previous = t_current;
    t_current = Py_NewRef(call);
    PyObject *result = PyObject_Vectorcall(self->original, stack, 3, kwnames);
    PyObject *mine = t_current;
    t_current = previous;
    Py_XDECREF(mine); /* the caller holds `call` still */
    return result;
}

/* `_wrap.begin(adapter, client, options, stream, False)`: this module's begin, unless replaced */
static PyObject *begin_now(PyObject *const *bargs) {
    PyObject *fn = PyDict_GetItemWithError(g_wrap_globals, s_begin);
    if (fn == NULL) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "tokentrail: _wrap.begin is gone");
        return NULL;
    }
    if (fn == g_begin_fn) return begin(NULL, bargs, 5);
    return PyObject_Vectorcall(fn, bargs, 5, NULL);
}

/* `_fast.settle(call, result)`: 1 settled, 0 not, -1 raised */
static int settle_now(PyObject *call, PyObject *result) {
    PyObject *fn = PyDict_GetItemWithError(g_fast_globals, s_settle);
    if (fn == NULL) return PyErr_Occurred() ? -1 : 0;
    if (fn == g_settle_fn) return settle_call(call, result, NULL);
    PyObject *args[2] = {call, result};
    PyObject *r = PyObject_Vectorcall(fn, args, 2, NULL);
    if (r == NULL) return -1;
    int yes = PyObject_IsTrue(r);
    Py_DECREF(r);
    return yes;
}

/* `Call.watch(stream)` where it makes the C proxy (a sync stream of an operation in the adapter's
 * `c_stream_ops`, of a type whose `__iter__` `_stream.source` has seen): the Proxy, made here; NULL with
 * no error set for anything else (the Python `read_result` watches it, and learns the type) */
static PyObject *c_watch(PyObject *call, PyObject *stream) {
    PyObject *result = NULL, *is_async = NULL, *adapter = NULL, *ops = NULL, *op = NULL, *src = NULL,
             *it = NULL, *hide = NULL;
    if (g_plain_streams == NULL || !direct_call(call)) return NULL;
    PyObject *seen = PyDict_GetItemWithError(g_plain_streams, (PyObject *)Py_TYPE(stream)); /* its __iter__ */
    if (seen == NULL) return NULL;
    PyObject *iter_fn = _PyType_Lookup(Py_TYPE(stream), s_iter_name); /* borrowed */
    int plain = seen != Py_None && seen == iter_fn;
    if (!plain && seen != Py_None) return NULL; /* its __iter__ changed since: Python decides again */
    if ((is_async = call_get(call, C_IS_ASYNC, s_is_async)) == NULL || is_async != Py_False) goto out;
    if ((adapter = call_get(call, C_ADAPTER, s_adapter)) == NULL || (op = call_get(call, C_OP, s_op)) == NULL ||
        (ops = PyObject_GetAttr(adapter, s_c_stream_ops)) == NULL)
        goto out;
    int relayed = PySequence_Contains(ops, op);
    if (relayed <= 0) goto out;
    if ((src = plain ? PyObject_GetAttr(stream, s_iterator) : Py_NewRef(stream)) == NULL) goto out;
    if ((it = PyObject_GetIter(src)) == NULL || (hide = call_get(call, C_INJECTED, s_injected)) == NULL) goto out;
    PyObject *settle_fn = PyDict_GetItemWithError(g_fast_globals, s_settle);
    if (settle_fn == NULL) goto out;
    PyObject *args[5] = {stream, it, call, hide, settle_fn};
    result = PyObject_Vectorcall((PyObject *)&ProxyType, args, 5, NULL);
out:
    Py_XDECREF(is_async), Py_XDECREF(adapter), Py_XDECREF(ops), Py_XDECREF(op), Py_XDECREF(src);
    Py_XDECREF(it), Py_XDECREF(hide);
    return result;
}

/* `Call.succeeded(result)`: the usual result read in C, anything else by `read_result` (a sync chat
 * stream's proxy made here where `sync`); `result` is taken. An Exception in the accounting is logged
 * once and the result returned, as in Python. */
static PyObject *succeeded(PyObject *call, PyObject *result, int sync) {
    PyObject *kind = PyDict_GetItemWithError(g_kinds, (PyObject *)Py_TYPE(result)); /* borrowed */
    if (kind == NULL && PyErr_Occurred()) goto raised;
    if (kind == g_fast_kind) {
        int settled = settle_now(call, result);
        if (settled > 0) return result;
        if (settled < 0) goto raised;
    } else if (sync && kind == g_stream_kind) {
        PyObject *proxy = c_watch(call, result);
        if (proxy != NULL) {
            Py_DECREF(result);
            return proxy;
        }
        if (PyErr_Occurred()) goto raised;
    }
    PyObject *r = PyObject_CallMethodObjArgs(call, s_read_result, result, kind ? kind : Py_None, NULL);
    Py_DECREF(result);
    return r;
raised:
    if (!PyErr_ExceptionMatches(PyExc_Exception)) { /* not caught in Python either */
        Py_DECREF(result);
        return NULL;
    }
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    PyObject *r2 = PyObject_CallFunctionObjArgs(g_warn_exception, s_result_accounting, value, NULL);
    if (r2 == NULL) PyErr_Clear();
    Py_XDECREF(r2), Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
    return result;
}

/* the exception raised: `call.failed(exc)`, then the same exception raised again (NULL) */
static PyObject *failed(PyObject *call) {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (value == NULL) {
        PyErr_Restore(type, value, tb);
        return NULL;
    }
    if (tb != NULL) PyException_SetTraceback(value, tb);
    PyObject *r = PyObject_CallMethodOneArg(call, s_failed, value);
    if (r == NULL) { /* failed() itself raised (it catches Exception): that propagates, as in Python */
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        PyErr_NormalizeException(&t2, &v2, &tb2);
        if (v2 != NULL) PyException_SetContext(v2, Py_NewRef(value));
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        PyErr_Restore(t2, v2, tb2);
        return NULL;
    }
    Py_DECREF(r);
    PyErr_Restore(type, value, tb);
    return NULL;
}

static PyObject *request_call(Request *self, PyObject *const *args, size_t nargsf, PyObject *kwnames) {
    Py_ssize_t nargs = PyVectorcall_NARGS(nargsf);
    PyObject *stream = Py_False;
    int usual = nargs == 3 && g_wrap_globals != NULL;
    Py_ssize_t nkw = kwnames ? PyTuple_GET_SIZE(kwnames) : 0;
    for (Py_ssize_t k = 0; usual && k < nkw; k++) {
        PyObject *name = PyTuple_GET_ITEM(kwnames, k);
        if (is_name(name, s_stream))
            stream = args[nargs + k];
        else if (!is_name(name, s_stream_cls))
            usual = 0;
    }
    if (!usual) return PyObject_Vectorcall(self->fallback, args, nargsf, kwnames);
    PyObject *options = args[2];
    PyObject *bargs[5] = {self->adapter, args[0], options, stream, Py_False};
    PyObject *call = begin_now(bargs);
    if (call == NULL) return NULL; /* a budget exceeded: raised before anything is sent */
    if (call == Py_None) {
        Py_DECREF(call);
        return PyObject_Vectorcall(self->original, args, nargsf, kwnames);
    }
    PyObject *sent = Py_NewRef(options), *result = NULL;
    int streamed = PyObject_IsTrue(stream);
    if (streamed < 0) goto refused_or_failed;
    if (streamed) { /* (the C begin may have asked the stream for usage already: `injected`) */
        PyObject *injected = call_get(call, C_INJECTED, s_injected);
        int asked = injected == NULL ? -1 : PyObject_IsTrue(injected);
        Py_XDECREF(injected);
        if (asked < 0) goto refused_or_failed;
        if (!asked) {
            PyObject *prepared = PyObject_CallMethodObjArgs(self->adapter, s_prepare, call, options, NULL);
            if (prepared == NULL) goto refused_or_failed;
            Py_SETREF(sent, prepared);
        }
    }
    if ((result = send_request(self, args, kwnames, sent, call)) != NULL) goto sent_ok;
refused_or_failed: {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
    PyObject *r = value ? PyObject_CallMethodOneArg(call, s_refused, value) : NULL;
    int resend = r == NULL ? -1 : PyObject_IsTrue(r);
    Py_XDECREF(r);
    if (resend < 0) { /* refused() raised: that exception is the one failed() sees and the user gets */
        PyObject *t2, *v2, *tb2;
        PyErr_Fetch(&t2, &v2, &tb2);
        PyErr_NormalizeException(&t2, &v2, &tb2);
        if (v2 != NULL && value != NULL) PyException_SetContext(v2, Py_NewRef(value));
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        PyErr_Restore(t2, v2, tb2);
        goto fail;
    }
    if (!resend) {
        PyErr_Restore(type, value, tb);
        goto fail;
    }
    /* the endpoint refused stream_options (remembered): send it as the user wrote it */
    Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
    if ((result = send_request(self, args, kwnames, options, call)) != NULL) goto sent_ok;
}
fail:
    failed(call);
    Py_DECREF(sent);
    Py_DECREF(call);
    return NULL;
sent_ok:
    Py_DECREF(sent);
    result = succeeded(call, result, 1);
    Py_DECREF(call);
    return result;
}

static PyObject *request_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    PyObject *adapter, *original, *fallback;
    if (!PyArg_ParseTuple(args, "OOO:Request", &adapter, &original, &fallback)) return NULL;
    Request *self = (Request *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    self->adapter = Py_NewRef(adapter);
    self->original = Py_NewRef(original);
    self->fallback = Py_NewRef(fallback);
    self->vectorcall = (vectorcallfunc)request_call;
    return (PyObject *)self;
}

/* as a function: bound to an instance, itself on the class */
static PyObject *request_get(PyObject *self, PyObject *obj, PyObject *type) {
    if (obj == NULL || obj == Py_None) return Py_NewRef(self);
    return PyMethod_New(self, obj);
}

static int request_traverse(Request *self, visitproc visit, void *arg) {
    Py_VISIT(self->adapter);
    Py_VISIT(self->original);
    Py_VISIT(self->fallback);
    Py_VISIT(self->dict);
    return 0;
}

static int request_clear(Request *self) {
    Py_CLEAR(self->adapter);
    Py_CLEAR(self->original);
    Py_CLEAR(self->fallback);
    Py_CLEAR(self->dict);
    return 0;
}

static void request_dealloc(Request *self) {
    PyObject_GC_UnTrack(self);
    request_clear(self);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *request_repr(Request *self) { return PyUnicode_FromFormat("<tokentrail request %R>", self->original); }

static PyMemberDef request_members[] = {
    {"__wrapped_original__", T_OBJECT, offsetof(Request, original), READONLY, "the SDK's request"},
    {"__vectorcalloffset__", T_PYSSIZET, offsetof(Request, vectorcall), READONLY},
    {"__dictoffset__", T_PYSSIZET, offsetof(Request, dict), READONLY},
    {NULL},
};

static PyGetSetDef request_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL},
};

static PyTypeObject RequestType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokentrail.instrument._speedups.Request",
    .tp_basicsize = sizeof(Request),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL | Py_TPFLAGS_METHOD_DESCRIPTOR,
    .tp_doc = "Request(adapter, original, fallback): the SDK's sync request, recorded (see _wrap.sync_request).",
    .tp_new = request_new,
    .tp_dealloc = (destructor)request_dealloc,
    .tp_traverse = (traverseproc)request_traverse,
    .tp_clear = (inquiry)request_clear,
    .tp_call = PyVectorcall_Call,
    .tp_vectorcall_offset = offsetof(Request, vectorcall),
    .tp_descr_get = request_get,
    .tp_dictoffset = offsetof(Request, dict),
    .tp_repr = (reprfunc)request_repr,
    .tp_members = request_members,
    .tp_getset = request_getset,
};

/* `finish(call, result)`: `Call.succeeded` for the async request wrapper, its C step in one call */
static PyObject *finish(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "finish(call, result)");
        return NULL;
    }
    if (g_kinds == NULL) return PyObject_CallMethodOneArg(args[0], s_succeeded, args[1]); /* not bound */
    return succeeded(args[0], Py_NewRef(args[1]), 0);
}

static PyObject *current_call(PyObject *module, PyObject *unused) {
    return Py_NewRef(t_current != NULL ? t_current : Py_None);
}

static PyObject *bind_request(PyObject *module, PyObject *args) {
    PyObject *objs[7];
    if (!PyArg_ParseTuple(args, "O!O!O!OOOO!:bind_request", &PyDict_Type, &objs[0], &PyDict_Type, &objs[1],
                          &PyDict_Type, &objs[2], &objs[3], &objs[4], &objs[5], &PyDict_Type, &objs[6]))
        return NULL;
    PyObject **slots[] = {&g_wrap_globals,   &g_fast_globals, &g_kinds,        &g_fast_kind,
                          &g_warn_exception, &g_stream_kind,  &g_plain_streams};
    for (int k = 0; k < 7; k++) {
        Py_INCREF(objs[k]);
        Py_XSETREF(*slots[k], objs[k]);
    }
    Py_RETURN_NONE;
}

static PyObject *direct(PyObject *module, PyObject *unused) {
    return Py_BuildValue("(OO)", g_call_at[0] > 0 ? Py_True : Py_False, g_model_base != NULL ? Py_True : Py_False);
}

static PyMethodDef methods[] = {
    {"bind_own", bind_own, METH_VARARGS,
     "bind_own(types, names) -> int: tokentrail's plain classes whose instances C reads these names from "
     "directly (those that define none of them as a descriptor); how many were bound."},
    {"bind_request", bind_request, METH_VARARGS,
     "bind_request(wrap_globals, fast_globals, kinds, fast_kind, warn_exception, stream_kind, plain_streams): "
     "what Request reads."},
    {"finish", (PyCFunction)(void (*)(void))finish, METH_FASTCALL,
     "finish(call, result) -> result: Call.succeeded, the usual parsed result read and queued in C."},
    {"current_call", current_call, METH_NOARGS,
     "current_call() -> Call | None: the sync call this thread's Request is sending (a retry's)."},
    {"bind_inject", bind_inject, METH_VARARGS,
     "bind_inject(settings, rejecting): what begin reads to ask a chat stream for usage, as prepare."},
    {"bind_streams", bind_streams, METH_VARARGS,
     "bind_streams(end_stream, watcher_of): a Proxy's Python end where C does not settle the call, and "
     "the watcher its generic relay reads with."},
    {"direct", direct, METH_NOARGS,
     "direct() -> (Call slots, SDK models): what is read in place rather than by attribute."},
    {"bind_models", bind_models, METH_VARARGS,
     "bind_models(pydantic.BaseModel, chunk_types): read SDK models' dicts and pydantic's slots in place, "
     "and these chunk types' in the relay."},
    {"settle", (PyCFunction)(void (*)(void))settle, METH_FASTCALL,
     "settle(call, result[, finish_reason]) -> bool: queue a usual parsed OpenAI result's flat record "
     "(a stream's end: its usage chunk and its last chunk's finish reason); False: not handled."},
    {"bind", bind, METH_VARARGS, "bind(ledger, switches, pending, shapes, clock): what settle queues into."},
    {"begin", (PyCFunction)(void (*)(void))begin, METH_FASTCALL,
     "begin(adapter, client, options, stream, is_async) -> Call | None: as _call.begin."},
    {"bind_begin", bind_begin, METH_VARARGS,
     "bind_begin(python_begin, Call, endpoints, run_var, tool_var, ctx_var, current_run, next_number, "
     "base_url_key): what begin reads (after bind())."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_speedups", NULL, -1, methods};

#define INTERN(var, text) \
    if ((var = PyUnicode_InternFromString(text)) == NULL) return NULL

PyMODINIT_FUNC PyInit__speedups(void) {
    INTERN(s_dict, "__dict__");
    INTERN(s_usage, "usage");
    INTERN(s_choices, "choices");
    INTERN(s_ptd, "prompt_tokens_details");
    INTERN(s_ctd, "completion_tokens_details");
    INTERN(s_pt, "prompt_tokens");
    INTERN(s_ct, "completion_tokens");
    INTERN(s_cached, "cached_tokens");
    INTERN(s_cache_write, "cache_write_tokens");
    INTERN(s_reasoning, "reasoning_tokens");
    INTERN(s_extra_attr, "__pydantic_extra__");
    INTERN(s_message, "message");
    INTERN(s_finish, "finish_reason");
    INTERN(s_tool_calls, "tool_calls");
    INTERN(s_model, "model");
    INTERN(s_id, "id");
    INTERN(s_tier, "service_tier");
    INTERN(s_done, "done");
    INTERN(s_run, "run");
    INTERN(s_n, "_n");
    INTERN(s_head, "_head");
    INTERN(s_tail, "_tail");
    INTERN(s_is_async, "is_async");
    INTERN(s_quiet_start, "quiet_start");
    INTERN(s_quiet_end, "quiet_end");
    INTERN(s_call_view, "call_view");
    INTERN(s_fold_at, "fold_at");
    INTERN(s_fold, "fold");
    INTERN(s_fields_set, "__pydantic_fields_set__");
    INTERN(s_url, "url");
    INTERN(s_operations, "operations");
    INTERN(s_base_url_attr, "_base_url");
    INTERN(s_json_data, "json_data");
    INTERN(s_adapter, "adapter");
    INTERN(s_base_url, "base_url");
    INTERN(s_op, "op");
    INTERN(s_stream, "stream");
    INTERN(s_injected, "injected");
    INTERN(s_asked, "asked");
    INTERN(g_stream_method, "stream");
    INTERN(g_generate_method, "generate");
    INTERN(s_discard, "discard");
    INTERN(s_last, "last");
    INTERN(s_inject_ops, "inject_ops");
    INTERN(s_stream_usage, "stream_usage");
    INTERN(s_auto, "auto");
    INTERN(s_urls, "urls");
    INTERN(s_headers, "headers");
    INTERN(s_raw_header, "X-Stainless-Raw-Response");
    INTERN(s_extra_json, "extra_json");
    INTERN(s_stream_options, "stream_options");
    INTERN(s_include_usage, "include_usage");
    INTERN(s_generic, "_generic");
    INTERN(s_ok, "ok");
    INTERN(s_partial, "partial");
    INTERN(s_close, "close");
    INTERN(s_enter, "__enter__");
    INTERN(s_exit, "__exit__");
    INTERN(s_begin, "begin");
    INTERN(s_iter_name, "__iter__");
    INTERN(s_iterator, "_iterator");
    INTERN(s_c_stream_ops, "c_stream_ops");
    INTERN(s_settle, "settle");
    INTERN(s_stream_cls, "stream_cls");
    INTERN(s_prepare, "prepare");
    INTERN(s_refused, "refused");
    INTERN(s_failed, "failed");
    INTERN(s_read_result, "read_result");
    INTERN(s_succeeded, "succeeded");
    INTERN(s_result_accounting, "result accounting");
    if ((g_empty = PyTuple_New(0)) == NULL || (g_zero = PyLong_FromLong(0)) == NULL ||
        (g_one = PyLong_FromLong(1)) == NULL)
        return NULL;
    if (PyType_Ready(&ProxyType) < 0 || PyType_Ready(&RequestType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if ((g_settle_fn = PyObject_GetAttrString(m, "settle")) == NULL ||
        (g_begin_fn = PyObject_GetAttrString(m, "begin")) == NULL ||
        PyModule_AddObjectRef(m, "Request", (PyObject *)&RequestType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&ProxyType);
    if (PyModule_AddObject(m, "Proxy", (PyObject *)&ProxyType) < 0) {
        Py_DECREF(&ProxyType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
