/* thresh/version.h - the library's version and the export marker.
 *
 * THRESH_VERSION_* describe the headers compiled against; thresh_version()
 * tells the library actually loaded. The shared library's soname changes
 * with THRESH_SOVERSION only when the ABI breaks. */
#ifndef THRESH_VERSION_H
#define THRESH_VERSION_H

#define THRESH_VERSION_MAJOR 0
#define THRESH_VERSION_MINOR 1
#define THRESH_VERSION_PATCH 0
#define THRESH_VERSION_STRING "0.1.0"

#if defined(THRESH_BUILDING) && defined(__GNUC__)
#define THRESH_API __attribute__((visibility("default")))
#else
#define THRESH_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* thresh_version - the version string of the loaded library ("0.1.0").
 * Static string, cannot fail. Added in 0.1. */
THRESH_API const char *thresh_version(void);

#ifdef __cplusplus
}
#endif
#endif
