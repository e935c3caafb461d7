#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

/* HDF5's type and flag macros expand to (H5open(), global) and do not import into
   Swift; these accessors expose them. */
static inline hid_t    chdf5_p_default(void)        { return H5P_DEFAULT; }
static inline hid_t    chdf5_s_all(void)            { return H5S_ALL; }
static inline hid_t    chdf5_e_default(void)        { return H5E_DEFAULT; }
static inline unsigned chdf5_acc_trunc(void)        { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void)         { return H5F_ACC_EXCL; }
static inline unsigned chdf5_acc_rdonly(void)       { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void)         { return H5F_ACC_RDWR; }
static inline hid_t    chdf5_native_float(void)     { return H5T_NATIVE_FLOAT; }
static inline hid_t    chdf5_native_double(void)    { return H5T_NATIVE_DOUBLE; }
static inline hid_t    chdf5_native_int8(void)      { return H5T_NATIVE_INT8; }
static inline hid_t    chdf5_native_uint8(void)     { return H5T_NATIVE_UINT8; }
static inline hid_t    chdf5_native_int32(void)     { return H5T_NATIVE_INT32; }
static inline hid_t    chdf5_native_int64(void)     { return H5T_NATIVE_INT64; }
static inline hid_t    chdf5_c_s1(void)             { return H5T_C_S1; }
static inline size_t   chdf5_t_variable(void)       { return H5T_VARIABLE; }
static inline hsize_t  chdf5_s_unlimited(void)      { return H5S_UNLIMITED; }
static inline hid_t    chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t    chdf5_p_file_access(void)    { return H5P_FILE_ACCESS; }
static inline hid_t    chdf5_p_link_create(void)    { return H5P_LINK_CREATE; }

/* Collects the innermost message of the current HDF5 error stack into buf. */
static herr_t chdf5__walk(unsigned n, const H5E_error2_t *err, void *data) {
    char *buf = (char *)data;
    if (!err || !err->desc) return 0;
    size_t used = strlen(buf);
    if (used >= 500) return 0;
    if (used > 0) { strncat(buf, "; ", 511 - used); used = strlen(buf); }
    strncat(buf, err->desc, 511 - used);
    (void)n;
    return 0;
}
static inline void chdf5_last_error(char *buf512) {
    buf512[0] = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, chdf5__walk, buf512);
}
static inline void chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }
static inline void chdf5_clear_errors(void) { H5Eclear2(H5E_DEFAULT); }
#endif
