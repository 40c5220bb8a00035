// Whether this file is compiled for x86-64, for the package's own C files (not a public header).
#ifndef PEFT_CKERNELS_X86_H
#define PEFT_CKERNELS_X86_H

#if defined(__x86_64__) || defined(_M_X64)
#define PEFT_X86 1
#else
#define PEFT_X86 0
#endif

#endif
