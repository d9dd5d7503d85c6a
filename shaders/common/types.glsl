// Storage element type per variant: DTYPE_F16 stores float16_t (needs storageBuffer16BitAccess),
// arithmetic is always fp32. Load/store through LOAD/STORE so kernels are written once.
#extension GL_EXT_shader_16bit_storage : enable
#extension GL_EXT_shader_explicit_arithmetic_types_float16 : enable
#ifdef DTYPE_F16
#define STYPE float16_t
#else
#define STYPE float
#endif

// Linear invocation index over a 2-D grid of 1-D workgroups (x limited to 65535 groups).
uint linear_id() {
  return gl_GlobalInvocationID.x + gl_GlobalInvocationID.y * gl_NumWorkGroups.x * gl_WorkGroupSize.x;
}
