/* thresh/thresh.h - the umbrella header: include this one.
 *
 * thresh is an embeddable comment-spam and moderation filter. Open a database
 * folder (thresh/db.h), fill a comment (thresh/comment.h), check it and read
 * the verdict (thresh/check.h), and train the model from moderation
 * decisions (thresh/learn.h). Every fallible function returns 0 or a negative
 * THRESH_E* code (thresh/error.h). */
#ifndef THRESH_H
#define THRESH_H

#include "thresh/version.h"
#include "thresh/error.h"
#include "thresh/comment.h"
#include "thresh/db.h"
#include "thresh/check.h"
#include "thresh/learn.h"
#include "thresh/plugin.h"
#include "thresh/cluster.h"

#endif
