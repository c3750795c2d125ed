/* The fold's per-record work, in C: take the queue at once, and sum a batch's columns in one pass.
 *
 * `drain(queue)` is `list(queue)` then `queue.clear()` with nothing between (the GIL is held).
 * `one_group(pairs)` sums a batch of (record, scopes) pairs (`records.py` layout) when they are all
 * of one group (the same scopes object, equal group-key columns) and none has a provider-reported
 * cost: `(n, input, output, cached, cache write, reasoning, seconds)`, what `ledger._sums` gives;
 * else None, and the fold groups and sums them in Python. Optional, like `instrument/_speedups.c`.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include "../_slots.h"
#include <string.h>

static PyObject *s_clear;

static const Py_ssize_t KEY[] = {1, 2, 15, 3, 19, 25}; /* records.GROUP_KEY */
static const Py_ssize_t TOKENS[] = {8, 9, 11, 12, 13};  /* records.TOKENS */
#define PROVIDER_COST 14
#define STARTED 6
#define ENDED 7
#define MIN_SIZE 26
#define LIMIT ((long long)1 << 60)

/* a queued pair's record and its columns (`TOKENS`, and seconds from STARTED to ENDED) where the fold may
 * sum it in C: a (record, scopes) pair of the flat layout with no provider-reported cost, exact ints
 * within LIMIT and float times; else NULL (no error). What `one_group`'s walk and the Queue both read. */
static PyObject *columns_of(PyObject *pair, long long x[5], double *seconds) {
    if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) return NULL;
    PyObject *record = PyTuple_GET_ITEM(pair, 0);
    if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) < MIN_SIZE) return NULL;
    if (PyTuple_GET_ITEM(record, PROVIDER_COST) != Py_None) return NULL;
    for (int c = 0; c < 5; c++) {
        PyObject *v = PyTuple_GET_ITEM(record, TOKENS[c]);
        if (!PyLong_CheckExact(v)) return NULL;
        int overflow = 0;
        x[c] = PyLong_AsLongLongAndOverflow(v, &overflow);
        if (overflow || x[c] < -LIMIT || x[c] > LIMIT) {
            PyErr_Clear();
            return NULL;
        }
    }
    PyObject *start = PyTuple_GET_ITEM(record, STARTED), *end = PyTuple_GET_ITEM(record, ENDED);
    if (!PyFloat_CheckExact(start) || !PyFloat_CheckExact(end)) return NULL;
    *seconds = PyFloat_AS_DOUBLE(end) - PyFloat_AS_DOUBLE(start);
    return record;
}

/* -- Queue: the ledger's queue of finished calls, summed as they are queued ----------------------------
 * `append(pair)` adds a (record or event, scopes) pair to the current Batch, and while every pair so far
 * is of one group (`one_group`'s test) adds its columns to the batch's sums, reading the record while the
 * caller has it in cache. `drain` takes the whole Batch at once (a list subclass that carries the sums),
 * so the fold neither copies the queue nor walks records written hundreds of SDK calls ago. */
typedef struct {
    PyListObject list;
    int one;             /* every pair so far one group: sums and seconds are theirs */
    long long sums[5];   /* input, output, cached, cache write, reasoning */
    double seconds;
} Batch;

static PyTypeObject BatchType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokentrail.ledger._columns.Batch",
    .tp_basicsize = sizeof(Batch),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "Queued (record, scopes) pairs, taken at once; their column sums, if one group.",
};

typedef struct {
    PyObject_HEAD
    Batch *batch; /* never NULL once made */
} Queue;

static Batch *new_batch(void) { return (Batch *)PyObject_CallNoArgs((PyObject *)&BatchType); }

/* the pair's columns added to `b`'s sums if it is of the batch's group; else the batch is not one group */
static void add_to_sums(Batch *b, PyObject *pair) {
    Py_ssize_t n = PyList_GET_SIZE(b);
    if (n > 1 && !b->one) return;
    b->one = 0;
    long long x[5];
    double seconds;
    PyObject *record = columns_of(pair, x, &seconds);
    if (record == NULL) return;
    if (n == 1) { /* the first pair: the group is its own */
        memcpy(b->sums, x, sizeof(x));
        b->seconds = seconds;
        b->one = 1;
        return;
    }
    PyObject *first_pair = PyList_GET_ITEM(b, 0), *first = PyTuple_GET_ITEM(first_pair, 0);
    if (PyTuple_GET_ITEM(pair, 1) != PyTuple_GET_ITEM(first_pair, 1)) return;
    for (int c = 0; c < 6; c++) {
        PyObject *u = PyTuple_GET_ITEM(record, KEY[c]), *v = PyTuple_GET_ITEM(first, KEY[c]);
        if (u == v) continue;
        /* only exact str compared here: nothing that could run Python code while queueing */
        if (!PyUnicode_CheckExact(u) || !PyUnicode_CheckExact(v) || PyUnicode_Compare(u, v) != 0) {
            PyErr_Clear();
            return;
        }
    }
    for (int c = 0; c < 5; c++) {
        b->sums[c] += x[c];
        if (b->sums[c] > LIMIT || b->sums[c] < -LIMIT) return;
    }
    b->seconds += seconds;
    b->one = 1;
}

static PyObject *queue_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    if (PyTuple_GET_SIZE(args) || (kwds != NULL && PyDict_GET_SIZE(kwds))) {
        PyErr_SetString(PyExc_TypeError, "Queue() takes no arguments");
        return NULL;
    }
    Queue *self = (Queue *)type->tp_alloc(type, 0);
    if (self == NULL) return NULL;
    if ((self->batch = new_batch()) == NULL) {
        Py_DECREF(self);
        return NULL;
    }
    return (PyObject *)self;
}

static PyObject *queue_append(Queue *self, PyObject *pair) {
    Batch *b = self->batch;
    if (PyList_Append((PyObject *)b, pair) < 0) return NULL;
    add_to_sums(b, pair);
    Py_RETURN_NONE;
}

/* the queued batch, the queue left empty (a new batch made first: a finalizer run by the collector
 * while it is made queues into the batch taken, not into one lost) */
static PyObject *queue_take(Queue *self) {
    Batch *fresh = new_batch();
    if (fresh == NULL) return NULL;
    Batch *taken = self->batch;
    self->batch = fresh;
    return (PyObject *)taken;
}

static PyObject *queue_clear(Queue *self, PyObject *unused) {
    PyObject *taken = queue_take(self);
    if (taken == NULL) return NULL;
    Py_DECREF(taken);
    Py_RETURN_NONE;
}

static Py_ssize_t queue_len(Queue *self) { return PyList_GET_SIZE(self->batch); }

static PyObject *queue_iter(Queue *self) { return PyObject_GetIter((PyObject *)self->batch); }

static int queue_traverse(Queue *self, visitproc visit, void *arg) {
    Py_VISIT(self->batch);
    return 0;
}

static int queue_clear_refs(Queue *self) {
    Py_CLEAR(self->batch);
    return 0;
}

static void queue_dealloc(Queue *self) {
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->batch);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef queue_methods[] = {
    {"append", (PyCFunction)queue_append, METH_O, "append(pair): queue it (its columns summed now)."},
    {"clear", (PyCFunction)queue_clear, METH_NOARGS, "clear(): drop everything queued."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods queue_as_sequence = {.sq_length = (lenfunc)queue_len};

static PyTypeObject QueueType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "tokentrail.ledger._columns.Queue",
    .tp_basicsize = sizeof(Queue),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "The ledger's queue of (record or event, scopes) pairs: append, len, iter, clear; drain takes it.",
    .tp_new = queue_new,
    .tp_dealloc = (destructor)queue_dealloc,
    .tp_traverse = (traverseproc)queue_traverse,
    .tp_clear = (inquiry)queue_clear_refs,
    .tp_iter = (getiterfunc)queue_iter,
    .tp_as_sequence = &queue_as_sequence,
    .tp_methods = queue_methods,
};

static PyObject *drain(PyObject *module, PyObject *queue) {
    if (Py_IS_TYPE(queue, &QueueType)) return queue_take((Queue *)queue);
    PyObject *items = PySequence_List(queue);
    if (items == NULL) return NULL;
    PyObject *r = PyObject_CallMethodNoArgs(queue, s_clear);
    if (r == NULL) {
        Py_DECREF(items);
        return NULL;
    }
    Py_DECREF(r);
    return items;
}


/* The walk behind `one_group`: 1 if `pairs` are one group (sums, seconds, the first record and the
 * scopes set; borrowed), 0 if not (no error), -1 on error */
static int group_sums(PyObject *pairs, long long sums[5], double *seconds, PyObject **first_out,
                      PyObject **scopes_out) {
    if (!PyList_Check(pairs)) return 0;
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    if (n == 0) return 0;
    PyObject *first = NULL, *scopes = NULL;
    for (int c = 0; c < 5; c++) sums[c] = 0;
    *seconds = 0.0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *pair = PyList_GET_ITEM(pairs, k);
        long long x[5];
        double span;
        PyObject *record = columns_of(pair, x, &span);
        if (record == NULL) return 0;
        if (first == NULL) {
            first = record;
            scopes = PyTuple_GET_ITEM(pair, 1);
        } else {
            if (PyTuple_GET_ITEM(pair, 1) != scopes) return 0;
            for (int c = 0; c < 6; c++) {
                PyObject *a = PyTuple_GET_ITEM(record, KEY[c]), *b = PyTuple_GET_ITEM(first, KEY[c]);
                if (a == b) continue;
                int same = PyObject_RichCompareBool(a, b, Py_EQ);
                if (same <= 0) return same;
            }
        }
        for (int c = 0; c < 5; c++) {
            sums[c] += x[c];
            if (sums[c] > LIMIT || sums[c] < -LIMIT) return 0;
        }
        *seconds += span;
    }
    *first_out = first;
    *scopes_out = scopes;
    return 1;
}

/* `group_sums`, from what a Batch summed as it was queued where it could (no walk over the records) */
static int sums_of(PyObject *pairs, long long sums[5], double *seconds, PyObject **first, PyObject **scopes) {
    if (Py_IS_TYPE(pairs, &BatchType) && ((Batch *)pairs)->one && PyList_GET_SIZE(pairs) > 0) {
        Batch *b = (Batch *)pairs;
        memcpy(sums, b->sums, sizeof(b->sums));
        *seconds = b->seconds;
        PyObject *pair = PyList_GET_ITEM(pairs, 0);
        *first = PyTuple_GET_ITEM(pair, 0);
        *scopes = PyTuple_GET_ITEM(pair, 1);
        return 1;
    }
    return group_sums(pairs, sums, seconds, first, scopes);
}

static PyObject *one_group(PyObject *module, PyObject *pairs) {
    long long sums[5];
    double seconds;
    PyObject *first, *scopes;
    int one = sums_of(pairs, sums, &seconds, &first, &scopes);
    if (one < 0) return NULL;
    if (one == 0) Py_RETURN_NONE;
    return Py_BuildValue("(nLLLLLd)", PyList_GET_SIZE(pairs), sums[0], sums[1], sums[2], sums[3], sums[4],
                         seconds);
}

/* -- add_flat: `Accumulator.add_flat` on the accumulator's slots, in place ----------------------- */
#define FIELDS 13
static PyTypeObject *g_accumulator;
static Py_ssize_t g_at[FIELDS]; /* calls, duration_ms, input, output, cached, cache_write, reasoning,
                                 * priced, cost, cost_input, cost_output, cost_cached, cost_cache_write */
static const int USAGE_AT[] = {0, 1, 3, 4, 5}; /* input, output, cached, cache write, reasoning */
static const int COST_AT[] = {4, 0, 1, 2, 3};  /* total, input, output, cached, cache write */

static PyObject *bind_accumulator(PyObject *module, PyObject *type) {
    static const char *names[FIELDS] = {"calls", "duration_ms", "input", "output", "cached", "cache_write",
                                        "reasoning", "priced", "cost", "cost_input", "cost_output",
                                        "cost_cached", "cost_cache_write"};
    if (!PyType_Check(type)) {
        PyErr_SetString(PyExc_TypeError, "bind_accumulator(Accumulator)");
        return NULL;
    }
    Py_ssize_t at[FIELDS];
    for (int k = 0; k < FIELDS; k++) {
        if ((at[k] = slot_offset(type, names[k])) == 0) {
            PyErr_Format(PyExc_TypeError, "bind_accumulator: %s is not a slot", names[k]);
            return NULL;
        }
    }
    memcpy(g_at, at, sizeof(at));
    Py_INCREF(type);
    Py_XSETREF(g_accumulator, (PyTypeObject *)type);
    Py_RETURN_NONE;
}

/* slot `at` of `acc` += `value` (as `acc.x += value`: the number types' own addition) */
static int add_to(PyObject *acc, Py_ssize_t at, PyObject *value) {
    PyObject **slot = (PyObject **)((char *)acc + at);
    if (*slot == NULL) {
        PyErr_SetString(PyExc_AttributeError, "an Accumulator field is unset");
        return -1;
    }
    PyObject *sum = PyNumber_Add(*slot, value);
    if (sum == NULL) return -1;
    Py_SETREF(*slot, sum);
    return 0;
}

/* `Accumulator.add_flat` of these values on `acc`'s slots: the same additions in the same order */
static int add_values(PyObject *acc, PyObject *calls, PyObject *ms, PyObject *const usage[5], PyObject *const cost[5]) {
    if (add_to(acc, g_at[0], calls) < 0 || add_to(acc, g_at[1], ms) < 0) return -1;
    for (int k = 0; k < 5; k++)
        if (add_to(acc, g_at[2 + k], usage[k]) < 0) return -1;
    if (add_to(acc, g_at[7], calls) < 0) return -1;
    for (int k = 0; k < 5; k++)
        if (add_to(acc, g_at[8 + k], cost[k]) < 0) return -1;
    return 0;
}

static PyObject *add_flat(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "add_flat(accumulator, calls, duration_ms, usage, cost)");
        return NULL;
    }
    PyObject *acc = args[0], *usage = args[3], *cost = args[4];
    if (g_accumulator == NULL || Py_TYPE(acc) != g_accumulator || !PyTuple_Check(usage) ||
        PyTuple_GET_SIZE(usage) < 6 || !PyTuple_Check(cost) || PyTuple_GET_SIZE(cost) < 5) {
        PyObject *method = PyObject_GetAttrString(acc, "add_flat"); /* anything else: its own method */
        if (method == NULL) return NULL;
        PyObject *r = PyObject_Vectorcall(method, args + 1, 4, NULL);
        Py_DECREF(method);
        return r;
    }
    PyObject *u[5], *c[5];
    for (int k = 0; k < 5; k++) {
        u[k] = PyTuple_GET_ITEM(usage, USAGE_AT[k]);
        c[k] = PyTuple_GET_ITEM(cost, COST_AT[k]);
    }
    if (add_values(acc, args[1], args[2], u, c) < 0) return NULL;
    Py_RETURN_NONE;
}

/* -- fold_flat: the usual batch (one group, flat rates) folded in one step ---------------------------
 * What `Ledger._fold` does with it through `_add_group`, `PriceBook.flat_cost` and `Aggregates.absorb_flat`:
 * the sums priced once with the group's cached rates (`_priced`'s arithmetic, in its order), added to
 * the session's and each run scope's accumulators, the records kept. False, having changed nothing,
 * for anything else (rates not cached yet, tiers, a global budget's counter, other types): Python folds. */
static PyTypeObject *g_aggregates;
static Py_ssize_t g_events_at, g_lazy_at, g_models_at, g_tools_at, g_owner_at;
static PyTypeObject *g_usage_type; /* model.Usage, what `usage_of` builds */
static PyObject *g_prices, *g_no_model;
static PyObject *s_answered, *s_session, *s_extra, *s_lazy_set, *s_appended, *s_add, *s_extend;

static PyTypeObject *g_ledger_type, *g_hub_type; /* their plain attributes are read from their dicts */

/* TypeError if `type` defines any of `names` (a property or a slot would stand in front of the dict) */
static int not_defined(PyTypeObject *type, const char *const *names, int n) {
    for (int k = 0; k < n; k++) {
        PyObject *name = PyUnicode_InternFromString(names[k]);
        if (name == NULL) return -1;
        PyObject *found = _PyType_Lookup(type, name); /* borrowed */
        Py_DECREF(name);
        if (found != NULL) {
            PyErr_Format(PyExc_TypeError, "bind_fold: %s.%s is defined by the class", type->tp_name, names[k]);
            return -1;
        }
    }
    return 0;
}

static PyObject *bind_fold(PyObject *module, PyObject *args) {
    PyObject *aggregates, *ledger_type, *hub_type, *prices, *no_model, *usage_type;
    if (!PyArg_ParseTuple(args, "O!O!O!OUO!", &PyType_Type, &aggregates, &PyType_Type, &ledger_type, &PyType_Type,
                          &hub_type, &prices, &no_model, &PyType_Type, &usage_type))
        return NULL;
    if (!PyType_IsSubtype((PyTypeObject *)usage_type, &PyTuple_Type)) {
        PyErr_SetString(PyExc_TypeError, "bind_fold: Usage is a tuple");
        return NULL;
    }
    static const char *const plain[] = {"_extra", "session", "_lazy", "appended"}, *const book[] = {"_answered"},
                             *const hub[] = {"batched_usage"};
    if (not_defined((PyTypeObject *)ledger_type, plain, 4) < 0 || not_defined(Py_TYPE(prices), book, 1) < 0 ||
        not_defined((PyTypeObject *)hub_type, hub, 1) < 0)
        return NULL;
    Py_ssize_t at[5];
    static const char *names[5] = {"_events", "lazy", "models", "tools", "_owner"};
    for (int k = 0; k < 5; k++) {
        if ((at[k] = slot_offset(aggregates, names[k])) == 0) {
            PyErr_Format(PyExc_TypeError, "bind_fold: Aggregates.%s is not a slot", names[k]);
            return NULL;
        }
    }
    g_events_at = at[0], g_lazy_at = at[1], g_models_at = at[2], g_tools_at = at[3], g_owner_at = at[4];
    Py_INCREF(usage_type);
    Py_XSETREF(g_usage_type, (PyTypeObject *)usage_type);
    Py_INCREF(aggregates), Py_INCREF(prices), Py_INCREF(no_model), Py_INCREF(ledger_type), Py_INCREF(hub_type);
    Py_XSETREF(g_aggregates, (PyTypeObject *)aggregates);
    Py_XSETREF(g_ledger_type, (PyTypeObject *)ledger_type);
    Py_XSETREF(g_hub_type, (PyTypeObject *)hub_type);
    Py_XSETREF(g_prices, prices);
    Py_XSETREF(g_no_model, no_model);
    Py_RETURN_NONE;
}

static PyObject *slot_of(PyObject *obj, Py_ssize_t at) { return *(PyObject **)((char *)obj + at); }

/* a scope the C fold can add to: an Aggregates whose slots hold what they should (borrowed reads) */
static int usual_scope(PyObject *scope) {
    if (Py_TYPE(scope) != g_aggregates) return 0;
    PyObject *models = slot_of(scope, g_models_at), *tools = slot_of(scope, g_tools_at);
    PyObject *events = slot_of(scope, g_events_at), *lazy = slot_of(scope, g_lazy_at);
    return models && PyDict_CheckExact(models) && tools && PyDict_CheckExact(tools) && events &&
           lazy && PyLong_CheckExact(lazy);
}

/* `dict[key]`, made an Accumulator() first if absent (borrowed) */
static PyObject *accumulator_at(PyObject *dict, PyObject *key) {
    PyObject *acc = PyDict_GetItemWithError(dict, key);
    if (acc != NULL || PyErr_Occurred()) return acc;
    acc = PyObject_CallNoArgs((PyObject *)g_accumulator);
    if (acc == NULL) return NULL;
    int bad = PyDict_SetItem(dict, key, acc);
    Py_DECREF(acc); /* the dict holds it */
    return bad ? NULL : acc;
}

/* `lazy_set.add(scope)` if it keeps no records yet, then `scope.absorb_flat(...)` with `records` */
static int absorb(PyObject *lazy_set, PyObject *scope, PyObject *model_key, PyObject *tool, PyObject *calls,
                  PyObject *ms, PyObject *const usage[5], PyObject *const cost[5], PyObject *records) {
    PyObject *lazy = slot_of(scope, g_lazy_at);
    if (PyLong_AsSsize_t(lazy) == 0) {
        PyObject *r = PyObject_CallMethodOneArg(lazy_set, s_add, scope);
        if (r == NULL) return -1;
        Py_DECREF(r);
    }
    PyObject *acc = accumulator_at(slot_of(scope, g_models_at), model_key);
    if (acc == NULL || add_values(acc, calls, ms, usage, cost) < 0) return -1;
    if (tool != Py_None) {
        if ((acc = accumulator_at(slot_of(scope, g_tools_at), tool)) == NULL) return -1;
        if (add_values(acc, calls, ms, usage, cost) < 0) return -1;
    }
    PyObject *r = PyObject_CallMethodOneArg(slot_of(scope, g_events_at), s_extend, records);
    if (r == NULL) return -1;
    Py_DECREF(r);
    PyObject *more = PyNumber_Add(slot_of(scope, g_lazy_at), calls);
    if (more == NULL) return -1;
    Py_SETREF(*(PyObject **)((char *)scope + g_lazy_at), more);
    return 0;
}

/* `obj.<name>` for the ledger's, its hub's and the price book's plain instance attributes (their classes define
 * none of these names: checked by `bind_fold`), read from the instance dict: no walk of the type's
 * MRO, which the method cache has usually lost by the time a fold runs. Anything else: by attribute. */
static PyObject *plain_attr(PyObject *obj, PyObject *name) {
    if (Py_TYPE(obj) == g_ledger_type || Py_TYPE(obj) == g_hub_type || obj == g_prices) {
        PyObject *v = dict_item(obj, name);
        if (v != NULL || PyErr_Occurred()) return v;
    }
    return PyObject_GetAttr(obj, name);
}

/* `obj.<name> = value` for the ledger's plain attributes, in its dict (as `plain_attr` reads) */
static int plain_set(PyObject *obj, PyObject *name, PyObject *value) {
    if (Py_TYPE(obj) != g_ledger_type) return PyObject_SetAttr(obj, name, value);
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (d == NULL) return -1;
    int r = PyDict_SetItem(d, name, value);
    Py_DECREF(d);
    return r;
}

static PyObject *fold_flat(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "fold_flat(ledger, items)");
        return NULL;
    }
    PyObject *ledger = args[0], *items = args[1];
    if (g_aggregates == NULL || g_accumulator == NULL) Py_RETURN_FALSE;
    long long sums[5];
    double seconds;
    PyObject *first, *scopes;
    int one = sums_of(items, sums, &seconds, &first, &scopes);
    if (one <= 0) return one < 0 ? NULL : Py_NewRef(Py_False);
    if (!PyTuple_CheckExact(scopes)) Py_RETURN_FALSE;
    PyObject *kind = PyTuple_GET_ITEM(first, KEY[0]), *provider = PyTuple_GET_ITEM(first, KEY[1]);
    PyObject *answered = PyTuple_GET_ITEM(first, KEY[2]), *model = PyTuple_GET_ITEM(first, KEY[3]);
    PyObject *tool = PyTuple_GET_ITEM(first, KEY[4]), *tier = PyTuple_GET_ITEM(first, KEY[5]);
    PyObject *result = NULL, *session = NULL, *extra = NULL, *lazy_set = NULL, *cache = NULL, *key = NULL;
    PyObject *records = NULL, *model_key = NULL, *calls = NULL, *ms = NULL, *appended = NULL;
    PyObject *usage[5] = {NULL}, *cost[5] = {NULL};
    Py_ssize_t n = PyList_GET_SIZE(items);

    /* everything checked before anything changes */
    if ((extra = plain_attr(ledger, s_extra)) == NULL || (session = plain_attr(ledger, s_session)) == NULL ||
        (lazy_set = plain_attr(ledger, s_lazy_set)) == NULL || (cache = plain_attr(g_prices, s_answered)) == NULL)
        goto done;
    if (extra != Py_None || !usual_scope(session) || !PyDict_CheckExact(cache) || !PyUnicode_CheckExact(kind) ||
        PyUnicode_CompareWithASCIIString(kind, "tool") == 0)
        goto fallback;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(scopes); k++)
        if (!usual_scope(PyTuple_GET_ITEM(scopes, k))) goto fallback;
    if ((key = PyTuple_Pack(4, provider, model, answered, tier)) == NULL) goto done;
    PyObject *entry = PyDict_GetItemWithError(cache, key); /* borrowed; `cache` holds it */
    if (entry == NULL) {
        if (PyErr_Occurred()) goto done;
        goto fallback; /* not priced yet: flat_cost looks it up and caches it */
    }
    if (!PyTuple_CheckExact(entry) || PyTuple_GET_SIZE(entry) != 3 || PyTuple_GET_ITEM(entry, 0) == Py_None)
        goto fallback;
    int tiers = PyObject_IsTrue(PyTuple_GET_ITEM(entry, 2));
    if (tiers != 0) goto fallback_or_error;
    PyObject *r = PyTuple_GET_ITEM(entry, 1);
    if (!PyTuple_CheckExact(r) || PyTuple_GET_SIZE(r) != 5) goto fallback;
    double rate[5];
    for (int k = 0; k < 5; k++) {
        if (!PyFloat_CheckExact(PyTuple_GET_ITEM(r, k))) goto fallback;
        rate[k] = PyFloat_AS_DOUBLE(PyTuple_GET_ITEM(r, k));
    }
    /* _priced, in its order: i, o, cached, write, reasoning are the summed columns */
    long long i = sums[0], o = sums[1], c = sums[2], w = sums[3], rs = sums[4];
    double inp = (double)(i - c - w) * rate[0];
    double cached = (double)c * rate[2];
    double write = (double)w * rate[3];
    double out = (double)(o - rs) * rate[1] + (double)rs * rate[4];
    double total = inp + cached + write + out;
    const double costs[5] = {total, inp, out, cached, write}; /* as add_flat adds them */
    for (int k = 0; k < 5; k++) {
        if ((usage[k] = PyLong_FromLongLong(sums[k])) == NULL) goto done;
        if ((cost[k] = PyFloat_FromDouble(costs[k])) == NULL) goto done;
    }
    /* the group: (provider, answered or model or NO_MODEL) */
    PyObject *name = answered;
    int named = PyObject_IsTrue(name);
    if (named < 0) goto done;
    if (!named) {
        name = model;
        if ((named = PyObject_IsTrue(name)) < 0) goto done;
        if (!named) name = g_no_model;
    }
    if ((model_key = PyTuple_Pack(2, provider, name)) == NULL || (records = PyList_New(n)) == NULL ||
        (calls = PyLong_FromSsize_t(n)) == NULL || (ms = PyFloat_FromDouble(seconds * 1000.0)) == NULL)
        goto done;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *record = PyTuple_GET_ITEM(PyList_GET_ITEM(items, k), 0);
        PyList_SET_ITEM(records, k, Py_NewRef(record));
    }

    /* the session (it keeps the batch), then each scope */
    if (absorb(lazy_set, session, model_key, tool, calls, ms, usage, cost, records) < 0) goto done;
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(scopes); k++)
        if (absorb(lazy_set, PyTuple_GET_ITEM(scopes, k), model_key, tool, calls, ms, usage, cost, records) < 0)
            goto done;
    if ((appended = plain_attr(ledger, s_appended)) == NULL) goto done;
    Py_SETREF(appended, PyNumber_Add(appended, calls));
    if (appended == NULL || plain_set(ledger, s_appended, appended) < 0) goto done;
    result = Py_NewRef(Py_True);
    goto done;
fallback_or_error:
    if (PyErr_Occurred()) goto done;
fallback:
    result = Py_NewRef(Py_False);
done:
    Py_XDECREF(session), Py_XDECREF(extra), Py_XDECREF(lazy_set), Py_XDECREF(cache), Py_XDECREF(key);
    Py_XDECREF(records), Py_XDECREF(model_key), Py_XDECREF(calls), Py_XDECREF(ms), Py_XDECREF(appended);
    for (int k = 0; k < 5; k++) Py_XDECREF(usage[k]), Py_XDECREF(cost[k]);
    return result;
}


/* -- fold_now: `Ledger.fold` with no Python frame for the usual batch ----------------------------------
 * A ledger whose queue is a Queue: nothing queued, nothing done; else under its lock the batch is taken
 * and folded by `fold_flat` where it is usual (and nobody wants events in batches), by the ledger's
 * `_fold_items` otherwise, whose events then go to batched subscribers outside the lock, as in `fold`.
 * Any other owner: its own `fold()`. */
static PyObject *s_pending, *s_lock, *s_hub, *s_batched, *s_acquire, *s_release, *s_fold_items, *s_tell,
    *s_fold;

static PyObject *fold_now(PyObject *module, PyObject *ledger) {
    PyObject *d = PyObject_GenericGetDict(ledger, NULL);
    if (d == NULL) {
        PyErr_Clear();
        return PyObject_CallMethodNoArgs(ledger, s_fold);
    }
    PyObject *pending = PyDict_GetItemWithError(d, s_pending), *lock = PyDict_GetItemWithError(d, s_lock);
    PyObject *hub = PyDict_GetItemWithError(d, s_hub); /* borrowed from the dict, held below */
    if (pending == NULL || lock == NULL || hub == NULL || !Py_IS_TYPE(pending, &QueueType)) {
        Py_DECREF(d);
        if (PyErr_Occurred()) return NULL;
        return PyObject_CallMethodNoArgs(ledger, s_fold);
    }
    if (PyList_GET_SIZE(((Queue *)pending)->batch) == 0) {
        Py_DECREF(d);
        Py_RETURN_NONE;
    }
    Py_INCREF(pending), Py_INCREF(lock), Py_INCREF(hub);
    Py_DECREF(d);
    PyObject *result = NULL, *batch = NULL, *batched = NULL, *folded = NULL;
    PyObject *r = PyObject_CallMethodNoArgs(lock, s_acquire);
    if (r == NULL) goto out;
    Py_DECREF(r);
    if ((batch = queue_take((Queue *)pending)) == NULL) goto release;
    if ((batched = plain_attr(hub, s_batched)) == NULL) goto release;
    int wanted = PyObject_IsTrue(batched);
    if (wanted < 0) goto release;
    if (!wanted) {
        PyObject *args[2] = {ledger, batch};
        PyObject *done = fold_flat(module, args, 2);
        if (done == NULL) goto release;
        int yes = done == Py_True;
        Py_DECREF(done);
        if (yes) {
            result = Py_NewRef(Py_None);
            goto release;
        }
    }
    folded = PyObject_CallMethodOneArg(ledger, s_fold_items, batch);
    if (folded != NULL) result = Py_NewRef(Py_None);
release: {
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb); /* the lock is released whatever happened */
    PyObject *r2 = PyObject_CallMethodNoArgs(lock, s_release);
    if (r2 == NULL) {
        Py_XDECREF(type), Py_XDECREF(value), Py_XDECREF(tb);
        Py_CLEAR(result);
    } else {
        Py_DECREF(r2);
        PyErr_Restore(type, value, tb);
    }
}
    if (result != NULL && folded != NULL && PyObject_IsTrue(folded) == 1) {
        PyObject *told = PyObject_CallMethodOneArg(ledger, s_tell, folded);
        if (told == NULL) Py_CLEAR(result);
        Py_XDECREF(told);
    }
out:
    Py_XDECREF(batch), Py_XDECREF(batched), Py_XDECREF(folded);
    Py_DECREF(pending), Py_DECREF(lock), Py_DECREF(hub);
    return result;
}

/* -- usage_of: `Aggregates.usage()` with no Python frame ------------------------------------------
 * What a loop reads after each step: the owner's queue folded first (`fold_now`), then the token columns
 * of every model's accumulator summed with Python's `+` (exact, in the dict's order, as `sum` adds them)
 * into a Usage. Anything else (another type, an odd accumulator): its own `usage()`. */
static PyObject *s_usage;

static PyObject *usage_of(PyObject *module, PyObject *agg) {
    if (g_usage_type == NULL || g_accumulator == NULL || Py_TYPE(agg) != g_aggregates || !usual_scope(agg))
        return PyObject_CallMethodNoArgs(agg, s_usage);
    PyObject *owner = slot_of(agg, g_owner_at);
    if (owner != NULL && owner != Py_None) {
        PyObject *r = fold_now(module, owner);
        if (r == NULL) return NULL;
        Py_DECREF(r);
    }
    PyObject *accs = PyDict_Values(slot_of(agg, g_models_at)); /* a snapshot: no Python code runs below */
    if (accs == NULL) return NULL;
    PyObject *sums[6] = {NULL}, *values = NULL, *result = NULL;
    for (int k = 0; k < 5; k++)
        if ((sums[k] = PyLong_FromLong(0)) == NULL) goto done;
    for (Py_ssize_t j = 0; j < PyList_GET_SIZE(accs); j++) {
        PyObject *acc = PyList_GET_ITEM(accs, j);
        for (int k = 0; k < 5 && Py_TYPE(acc) == g_accumulator; k++) {
            PyObject *v = *(PyObject **)((char *)acc + g_at[2 + k]);
            if (v == NULL || !PyLong_CheckExact(v)) break; /* odd: its own usage() says */
            Py_SETREF(sums[k], PyNumber_Add(sums[k], v));
            if (sums[k] == NULL) goto done;
            if (k == 4) goto next;
        }
        result = PyObject_CallMethodNoArgs(agg, s_usage);
        goto done;
    next:;
    }
    /* Usage(input, output, total, cached, cache write, reasoning), as `summed` makes it */
    if ((sums[5] = PyNumber_Add(sums[0], sums[1])) == NULL) goto done;
    values = PyTuple_Pack(6, sums[0], sums[1], sums[5], sums[2], sums[3], sums[4]);
    if (values == NULL) goto done;
    PyObject *args = PyTuple_Pack(1, values);
    if (args == NULL) goto done;
    result = PyTuple_Type.tp_new(g_usage_type, args, NULL);
    Py_DECREF(args);
done:
    for (int k = 0; k < 6; k++) Py_XDECREF(sums[k]);
    Py_XDECREF(values);
    Py_DECREF(accs);
    return result;
}

static PyMethodDef methods[] = {
    {"bind_accumulator", bind_accumulator, METH_O, "bind_accumulator(Accumulator): the slots add_flat adds to."},
    {"add_flat", (PyCFunction)(void (*)(void))add_flat, METH_FASTCALL,
     "add_flat(accumulator, calls, duration_ms, usage, cost): accumulator.add_flat(...), on its slots."},
    {"bind_fold", bind_fold, METH_VARARGS,
     "bind_fold(Aggregates, Ledger, Hub, prices, no_model, Usage): the scope slots, the ledger's and hub's "
     "plain attributes, the price cache fold_flat and fold_now use, and what usage_of builds."},
    {"fold_flat", (PyCFunction)(void (*)(void))fold_flat, METH_FASTCALL,
     "fold_flat(ledger, items) -> bool: the usual batch folded at its cached flat rates, or False (untouched)."},
    {"fold_now", fold_now, METH_O, "fold_now(ledger): ledger.fold(), the usual batch folded in C."},
    {"usage_of", usage_of, METH_O, "usage_of(aggregates) -> Usage: aggregates.usage(), with no Python frame."},
    {"drain", drain, METH_O, "drain(queue) -> list: every queued item, the queue emptied at once."},
    {"one_group", one_group, METH_O,
     "one_group(pairs) -> (n, input, output, cached, cache write, reasoning, seconds) | None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_columns", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__columns(void) {
    const char *names[] = {"clear", "_answered", "session", "_extra", "_lazy", "appended", "add", "extend",
                           "pending", "_lock", "hub", "batched_usage", "acquire", "release", "_fold_items",
                           "_tell_batched", "fold"};
    PyObject **slots[] = {&s_clear,   &s_answered, &s_session, &s_extra,   &s_lazy_set,   &s_appended,
                          &s_add,     &s_extend,   &s_pending, &s_lock,    &s_hub,        &s_batched,
                          &s_acquire, &s_release,  &s_fold_items, &s_tell, &s_fold};
    for (int k = 0; k < 17; k++)
        if ((*slots[k] = PyUnicode_InternFromString(names[k])) == NULL) return NULL;
    if ((s_usage = PyUnicode_InternFromString("usage")) == NULL) return NULL;
    BatchType.tp_base = &PyList_Type; /* a list: its items are all the collector sees */
    BatchType.tp_traverse = PyList_Type.tp_traverse;
    BatchType.tp_clear = PyList_Type.tp_clear;
    if (PyType_Ready(&BatchType) < 0 || PyType_Ready(&QueueType) < 0) return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Queue", (PyObject *)&QueueType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
