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

static PyObject *drain(PyObject *module, PyObject *queue) {
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

static const Py_ssize_t KEY[] = {1, 2, 15, 3, 19, 25}; /* records.GROUP_KEY */
static const Py_ssize_t TOKENS[] = {8, 9, 11, 12, 13};  /* records.TOKENS */
#define PROVIDER_COST 14
#define STARTED 6
#define ENDED 7
#define MIN_SIZE 26
#define LIMIT ((long long)1 << 60)

static PyObject *one_group(PyObject *module, PyObject *pairs) {
    if (!PyList_CheckExact(pairs)) Py_RETURN_NONE;
    Py_ssize_t n = PyList_GET_SIZE(pairs);
    if (n == 0) Py_RETURN_NONE;
    PyObject *first = NULL, *scopes = NULL;
    long long sums[5] = {0, 0, 0, 0, 0};
    double seconds = 0.0;
    for (Py_ssize_t k = 0; k < n; k++) {
        PyObject *pair = PyList_GET_ITEM(pairs, k);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) Py_RETURN_NONE;
        PyObject *record = PyTuple_GET_ITEM(pair, 0);
        if (!PyTuple_CheckExact(record) || PyTuple_GET_SIZE(record) < MIN_SIZE) Py_RETURN_NONE;
        if (PyTuple_GET_ITEM(record, PROVIDER_COST) != Py_None) Py_RETURN_NONE;
        if (first == NULL) {
            first = record;
            scopes = PyTuple_GET_ITEM(pair, 1);
        } else {
            if (PyTuple_GET_ITEM(pair, 1) != scopes) Py_RETURN_NONE;
            for (int c = 0; c < 6; c++) {
                PyObject *a = PyTuple_GET_ITEM(record, KEY[c]), *b = PyTuple_GET_ITEM(first, KEY[c]);
                if (a == b) continue;
                int same = PyObject_RichCompareBool(a, b, Py_EQ);
                if (same < 0) return NULL;
                if (!same) Py_RETURN_NONE;
            }
        }
        for (int c = 0; c < 5; c++) {
            PyObject *v = PyTuple_GET_ITEM(record, TOKENS[c]);
            if (!PyLong_CheckExact(v)) Py_RETURN_NONE;
            int overflow = 0;
            long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow || x < -LIMIT || x > LIMIT) {
                PyErr_Clear();
                Py_RETURN_NONE;
            }
            sums[c] += x;
            if (sums[c] > LIMIT || sums[c] < -LIMIT) Py_RETURN_NONE;
        }
        PyObject *start = PyTuple_GET_ITEM(record, STARTED), *end = PyTuple_GET_ITEM(record, ENDED);
        if (!PyFloat_CheckExact(start) || !PyFloat_CheckExact(end)) Py_RETURN_NONE;
        seconds += PyFloat_AS_DOUBLE(end) - PyFloat_AS_DOUBLE(start);
    }
    return Py_BuildValue("(nLLLLLd)", n, sums[0], sums[1], sums[2], sums[3], sums[4], seconds);
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
    /* the same additions, in the same order, as Accumulator.add_flat */
    if (add_to(acc, g_at[0], args[1]) < 0 || add_to(acc, g_at[1], args[2]) < 0) return NULL;
    for (int k = 0; k < 5; k++)
        if (add_to(acc, g_at[2 + k], PyTuple_GET_ITEM(usage, USAGE_AT[k])) < 0) return NULL;
    if (add_to(acc, g_at[7], args[1]) < 0) return NULL;
    for (int k = 0; k < 5; k++)
        if (add_to(acc, g_at[8 + k], PyTuple_GET_ITEM(cost, COST_AT[k])) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"bind_accumulator", bind_accumulator, METH_O, "bind_accumulator(Accumulator): the slots add_flat adds to."},
    {"add_flat", (PyCFunction)(void (*)(void))add_flat, METH_FASTCALL,
     "add_flat(accumulator, calls, duration_ms, usage, cost): accumulator.add_flat(...), on its slots."},
    {"drain", drain, METH_O, "drain(queue) -> list: every queued item, the queue emptied at once."},
    {"one_group", one_group, METH_O,
     "one_group(pairs) -> (n, input, output, cached, cache write, reasoning, seconds) | None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_columns", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__columns(void) {
    if ((s_clear = PyUnicode_InternFromString("clear")) == NULL) return NULL;
    return PyModule_Create(&module);
}
