/* model_path.h - where a program that was not installed finds the default
 * model. Part of src/common; not public API.
 *
 * The library starts a new database from the dump named by the options,
 * else $THRESH_MODEL, else the installed one (share/thresh/default.dump).
 * A program run from its meson build tree (BUILD/src/cli/thresh) has no
 * installed model, or an older one: it uses the model its own build made,
 * BUILD/models/default.dump, unless $THRESH_MODEL names another. */
#ifndef THRESH_COMMON_MODEL_PATH_H
#define THRESH_COMMON_MODEL_PATH_H

#include <stddef.h>

/* build_tree_model - BUILD/models/default.dump into buf when this program
 * runs from a meson build folder two levels up (BUILD/build.ninja exists)
 * that holds that model and $THRESH_MODEL is not set; else NULL (the
 * library's own order applies). Cannot fail. */
const char *build_tree_model(char *buf, size_t size);

#endif
