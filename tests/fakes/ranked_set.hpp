#pragma once
// An ordered set that also answers "the k-th key" in O(log n) (GCC's policy-based red-black tree
// with order statistics): the fake Partner Center pages a listing of 100,000 referrals, 100 at a
// time, without sorting all of them again for every page (bench/).
#include <ext/pb_ds/assoc_container.hpp>
#include <ext/pb_ds/tree_policy.hpp>

namespace cosync::fakes {

template <class Key, class Less>
using RankedSet = __gnu_pbds::tree<Key, __gnu_pbds::null_type, Less, __gnu_pbds::rb_tree_tag,
                                   __gnu_pbds::tree_order_statistics_node_update>;

}  // namespace cosync::fakes
