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

static PyMethodDef methods[] = {
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
