/* What both optional C modules share: where a class keeps an object slot, and an instance dict's item.
 * Included by each. */
#ifndef TOKENTRAIL_SLOTS_H
#define TOKENTRAIL_SLOTS_H
#include <structmember.h>

/* the offset of `owner`'s writable object slot `name` (its member descriptor), or 0 (not such a slot) */
static Py_ssize_t slot_offset(PyObject *owner, const char *name) {
    PyObject *descr = PyObject_GetAttrString(owner, name);
    Py_ssize_t at = 0;
    if (descr == NULL) {
        PyErr_Clear();
        return 0;
    }
    if (Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
        PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
        if (member->type == T_OBJECT_EX && !(member->flags & READONLY) && member->offset > 0) at = member->offset;
    }
    Py_DECREF(descr);
    return at;
}

/* `obj.__dict__[name]` (new reference), read with no attribute lookup; NULL with no error where the
 * instance dict has no such key, NULL with an error where reading it failed */
static PyObject *dict_item(PyObject *obj, PyObject *name) {
    PyObject *d = PyObject_GenericGetDict(obj, NULL);
    if (d == NULL) return NULL;
    PyObject *v = PyDict_GetItemWithError(d, name);
    Py_XINCREF(v);
    Py_DECREF(d);
    return v;
}

#endif
