// Storage element type per variant: DTYPE_F16 stores float16_t (needs storageBuffer16BitAccess),
// arithmetic is always fp32. Load/store through LOAD/STORE so kernels are written once.
#extension GL_EXT_shader_16bit_storage : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#ifdef DTYPE_F16
#define STYPE float16_t
#else
#define STYPE float
#endif

// Linear invocation index over a 2-D grid of 1-D workgroups (x limited to 65535 groups). A macro, not a
// function: glslang binds gl_WorkGroupSize where a function is parsed, and this file is included before
// the shader's `layout(local_size_x_id = 0) in;`, so a function here would multiply by the default 1.
#define linear_id() (gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x)
