// OpenBLAS's kernel choice, repaired where it does not know the CPU (see include/CKernels.h).
#include "CKernels.h"
#include "x86.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

// The kernel sets of OpenBLAS's DYNAMIC_ARCH builds that predate AVX2 (the names
// `openblas_get_corename()` gives). An x86-64 CPU that OpenBLAS 0.3.21 does not recognise (an
// Intel family 6 model 207, say) gets Prescott's SSE3 kernels, whatever vector units it has.
static const char *const peft_pre_avx2_cores[] = {
    "Unknown", "Katmai", "Coppermine", "Northwood", "Prescott", "Banias", "Atom", "Core2", "Penryn",
    "Dunnington", "Nehalem", "Athlon", "Opteron", "Opteron_SSE3", "Barcelona", "Nano", "Sandybridge",
    "Bobcat",
};

const char *peft_openblas_core_for(const char *chosen, bool avx2_fma, bool avx512, bool avx512_bf16) {
    if (!chosen || !avx2_fma) return NULL;
    bool pre_avx2 = false;
    for (size_t i = 0; i < sizeof(peft_pre_avx2_cores) / sizeof(peft_pre_avx2_cores[0]); i++) {
        if (strcasecmp(chosen, peft_pre_avx2_cores[i]) == 0) pre_avx2 = true;
    }
    if (!pre_avx2) return NULL;
    if (avx512 && avx512_bf16) return "Cooperlake";
    if (avx512) return "SkylakeX";
    return "Haswell";
}

const char *peft_openblas_core_for_this_cpu(const char *chosen) {
#if PEFT_X86
    const bool avx2_fma = peft_kernels_have_avx2();  // also runs __builtin_cpu_init
    const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512cd");
    return peft_openblas_core_for(chosen, avx2_fma, avx512, avx512 && __builtin_cpu_supports("avx512bf16"));
#else
    (void)chosen;
    return NULL;
#endif
}

// The core OpenBLAS chose itself, when it was replaced; empty otherwise.
static char peft_openblas_replaced[32];

const char *peft_openblas_replaced_core(void) { return peft_openblas_replaced[0] ? peft_openblas_replaced : NULL; }

// Runs when the program is loaded, after OpenBLAS's own initialisation (a library's initialisers
// run before those of the programs that link it) and before any thread of the program exists, so
// setting and clearing the environment variable races with nothing. OpenBLAS is reached through
// `dlsym`, so that this file links nothing: without a DYNAMIC_ARCH OpenBLAS nothing happens.
__attribute__((constructor)) static void peft_openblas_repair_core(void) {
    if (getenv("OPENBLAS_CORETYPE")) return;  // the user's choice stands
    char *(*corename)(void) = (char *(*)(void))dlsym(RTLD_DEFAULT, "openblas_get_corename");
    void (*quit)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_quit");
    void (*init)(void) = (void (*)(void))dlsym(RTLD_DEFAULT, "gotoblas_dynamic_init");
    if (!corename || !quit || !init) return;
    const char *chosen = corename();
    const char *better = peft_openblas_core_for_this_cpu(chosen);
    if (!better) return;
    char before[sizeof(peft_openblas_replaced)];
    strncpy(before, chosen, sizeof(before) - 1);
    before[sizeof(before) - 1] = 0;
    // OpenBLAS reads the variable only in `gotoblas_dynamic_init`; it is cleared again at once, so
    // that child processes make their own choice.
    setenv("OPENBLAS_CORETYPE", better, 1);
    quit();
    init();
    unsetenv("OPENBLAS_CORETYPE");
    if (strcasecmp(corename(), better) == 0) memcpy(peft_openblas_replaced, before, sizeof(before));
}
